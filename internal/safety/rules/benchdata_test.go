package rules

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// The benchmark's world, generated from a fixed seed so that every run
// screens the same posts against the same rules: 10,000 keywords, 200
// regular expressions, 1,000 domains and 200 URLs in 127 rules, one rule
// that is only a condition, and posts of about 200 bytes that read like
// channel posts (words, numbers, prices, links, some non-Latin text, a few
// percent with something a rule catches).

// syllables make up keywords and domain names that look like words and share
// prefixes the way real lists do.
var syllables = strings.Fields(`cryp to coin bit win ner pro mo gift card free bon us cash
	prize lot to ry in vest ment dou ble sig nal pump dump ma gic pill slim fast loan
	quick rich se cret deal of fer cli ck bai t bet ting ca si no spin jack pot air drop
	meta mask wal let seed phra se ver ify ac count su spend ed lo gin pay ment re fund
	ta x re bate ph arm a cy re pli ca wat ch lux ury sho es che ap foll ow ers li kes`)

// vocabulary is what innocent posts are made of.
var vocabulary = strings.Fields(`the of and to in is you that it he was for on are as with his
	they at be this have from or one had by word but not what all were we when your can said
	there use an each which she do how their if will up other about out many then them these
	so some her would make like him into time has look two more write go see number no way
	could people my than first water been call who oil its now find long down day did get come
	made may part channel news today update market price weather match team game city council
	school students report video photo link join read morning evening week month year good new
	great best free please thanks everyone friends family love happy birthday congratulations
	meeting project release version support question answer help issue fixed open closed`)

var benignDomains = []string{"news.example.com", "example.org", "docs.example.net",
	"github.com", "en.wikipedia.org", "youtu.be", "t.me", "bit.ly"}

var accented = []string{"café", "naïve", "Привет", "спасибо", "Größe", "東京", "مرحبا", "😀", "🔥", "👍"}

type benchWorld struct {
	rules         []Rule
	keywords      []string // every keyword, for the naive baseline
	regexps       []string
	regexpSamples []string // regexpSamples[i] matches regexps[i]
	domains       []string
	posts         []string
	ctxs          []Context
}

func word(rng *rand.Rand, minSyl, maxSyl int) string {
	n := minSyl + rng.IntN(maxSyl-minSyl+1)
	var b strings.Builder
	for range n {
		b.WriteString(syllables[rng.IntN(len(syllables))])
	}
	return b.String()
}

// regexTemplates are realistic trust & safety patterns; %s or %d is filled
// with a generated word or number so that the 200 expressions differ. Each
// comes with a text that it matches, with the same filling.
var regexTemplates = []struct{ re, sample string }{
	{`\b(?:bit\.ly|t\.me|tinyurl\.com)/%s[a-z0-9]{4,}\b`, "see t.me/%sab12 now"},
	{`\+?%d[ -]?\d{3}[ -]?\d{4}\b`, "call +%d 123 4567"},
	{`(?i)free\s+%s`, "FREE  %s today"},
	{`(?i)\b%s\s+(?:giveaway|airdrop|bonus)\b`, "the %s airdrop"},
	{`(?i)\b(?:dm|message|text)\s+me\s+(?:on|at)\s+%s`, "DM me on %s"},
	{`[a-z0-9._%%+-]+@%s\.(?:com|net|org)\b`, "write bob.smith@%s.net"},
	{`(?i)\bearn\s+\$?\d{3,5}\s+(?:per|a)\s+(?:day|week)\s+%s`, "earn $500 per day %s"},
	{`(?i)\b%s\d{2,4}\b`, "code %s123 works"},
	{`(?i)(?:whats\s?app|telegram|signal)\s*[:\-]?\s*\+?%d\d{6,}`, "WhatsApp: +%d1234567"},
	{`(?i)\b(?:btc|eth|usdt)\s+%s\s*\d+x\b`, "ETH %s 10x"},
}

func newBenchWorld(nKeywords, nRegexps, nDomains, nURLs, nPosts int) *benchWorld {
	rng := rand.New(rand.NewPCG(2026, 3))
	w := &benchWorld{}
	seen := map[string]bool{}
	for len(w.keywords) < nKeywords {
		kw := word(rng, 2, 4)
		if rng.IntN(10) == 0 {
			kw += " " + word(rng, 1, 2)
		}
		if len(kw) < 5 || seen[kw] {
			continue
		}
		seen[kw] = true
		w.keywords = append(w.keywords, kw)
	}
	for i := range nRegexps {
		t := regexTemplates[i%len(regexTemplates)]
		var fill any = word(rng, 2, 3)
		if strings.Contains(t.re, "%d") {
			fill = 10 + rng.IntN(90)
		}
		w.regexps = append(w.regexps, fmt.Sprintf(t.re, fill))
		w.regexpSamples = append(w.regexpSamples, fmt.Sprintf(t.sample, fill))
	}
	tlds := []string{"com", "net", "xyz", "top", "example", "io"}
	for len(w.domains) < nDomains {
		d := word(rng, 2, 3) + "." + tlds[rng.IntN(len(tlds))]
		if seen[d] {
			continue
		}
		seen[d] = true
		w.domains = append(w.domains, d)
	}
	var urls []string
	for range nURLs {
		urls = append(urls, benignDomains[rng.IntN(len(benignDomains))]+"/"+word(rng, 2, 3))
	}

	actions := []Action{ActionBlock, ActionRemove, ActionHold, ActionLabel}
	newRule := func(id string, i int) Rule {
		r := Rule{ID: id, Version: 1 + i%3, Action: actions[i%len(actions)], Mode: ModeEnforce,
			Category: "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", Label: "Possible scam"}
		if i%5 == 0 {
			r.Mode = ModeShadow
		}
		return r
	}
	for i := 0; i < len(w.keywords); i += 100 {
		r := newRule(fmt.Sprintf("kw-%03d", i/100), i/100)
		r.Keywords = w.keywords[i:min(i+100, len(w.keywords))]
		w.rules = append(w.rules, r)
	}
	for i := 0; i < len(w.regexps); i += 10 {
		r := newRule(fmt.Sprintf("re-%03d", i/10), i/10)
		r.Regexps = w.regexps[i:min(i+10, len(w.regexps))]
		w.rules = append(w.rules, r)
	}
	for i := 0; i < len(w.domains); i += 200 {
		r := newRule(fmt.Sprintf("domain-%d", i/200), i/200)
		r.Domains = w.domains[i:min(i+200, len(w.domains))]
		w.rules = append(w.rules, r)
	}
	if len(urls) > 0 {
		r := newRule("urls", 1)
		r.URLs = urls
		w.rules = append(w.rules, r)
	}
	w.rules = append(w.rules, Rule{ID: "new-account-big-channel", Version: 1, Action: ActionHold, Mode: ModeEnforce,
		Condition: `account_age_days < 2 && chat_kind == "channel" && subscriber_count > 10000 && strikes > 0`})

	for range nPosts {
		w.posts = append(w.posts, w.post(rng))
		w.ctxs = append(w.ctxs, Context{
			AccountAgeDays:  float64(rng.IntN(1000)),
			ChatKind:        []string{"channel", "group", "direct"}[rng.IntN(3)],
			SubscriberCount: int64(rng.IntN(100000)),
			Strikes:         rng.IntN(3),
			Country:         "DE",
		})
	}
	return w
}

// post makes one post of about 200 bytes.
func (w *benchWorld) post(rng *rand.Rand) string {
	var b strings.Builder
	first := true
	add := func(s string) {
		if !first {
			b.WriteByte(' ')
		}
		first = false
		b.WriteString(s)
	}
	for b.Len() < 190 {
		switch x := rng.IntN(100); {
		case x < 4:
			add(fmt.Sprintf("%d", rng.IntN(10000)))
		case x < 6:
			add(fmt.Sprintf("€%d.%02d", rng.IntN(500), rng.IntN(100)))
		case x < 8:
			add("https://" + benignDomains[rng.IntN(len(benignDomains))] + "/" + word(rng, 1, 2))
		case x < 10:
			add(accented[rng.IntN(len(accented))])
		default:
			wd := vocabulary[rng.IntN(len(vocabulary))]
			if rng.IntN(12) == 0 {
				wd = strings.ToUpper(wd[:1]) + wd[1:]
			}
			if rng.IntN(15) == 0 {
				wd += "."
			}
			add(wd)
		}
	}
	// A few posts carry what a rule is looking for.
	switch x := rng.IntN(100); {
	case x < 2 && len(w.keywords) > 0:
		add(w.keywords[rng.IntN(len(w.keywords))])
	case x < 3 && len(w.keywords) > 0:
		kw := []byte(w.keywords[rng.IntN(len(w.keywords))])
		kw[rng.IntN(len(kw))] = '4' // a digit for a letter, not always the right one
		add(string(kw))
	case x < 4 && len(w.domains) > 0:
		add("https://www." + w.domains[rng.IntN(len(w.domains))] + "/join")
	case x < 5:
		add(fmt.Sprintf("call +%d %d %d", 10+rng.IntN(90), 100+rng.IntN(900), 1000+rng.IntN(9000)))
	}
	return b.String()
}
