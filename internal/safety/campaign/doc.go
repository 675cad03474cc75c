// Package campaign finds spam and fraud campaigns: near-duplicate texts
// posted by several accounts within a time window. A moderator can then act
// on a whole campaign at once instead of post by post.
//
// A post's text is normalised against disguise (rules.Normalize: case,
// look-alike letters, digits for letters, invisible characters), cut into
// words with punctuation and emoji dropped, and summarised by a MinHash
// signature of its words and word pairs (fingerprint.go). Posts whose
// signatures agree on at least Config.Threshold of their slots are
// near-duplicates. Candidates are found through locality-sensitive hashing
// (index.go), so that a new post is compared with a handful of posts, not
// with the whole window. Near-duplicates are linked into groups as they
// arrive; a group with posts from Config.MinAccounts distinct accounts is a
// campaign (group.go). docs/campaigns.md explains the choices and their
// trade-offs, docs/benchmarks.md has the numbers.
//
// The package imports nothing of the application but the domain error type
// and the text normaliser; the caller feeds it posts from the event stream
// and acts on the Results.
package campaign
