package campaign

import (
	"cmp"
	"slices"
	"time"
)

// This file holds what happens once a new post's near-duplicates are known:
// the groups they are in merge, the post joins, and a group that reaches the
// account threshold becomes a campaign.
//
// Which group survives a merge is decided by age, never by where the groups
// happen to sit in memory, so that replays give the same IDs: a campaign
// survives a group that is not one; of two campaigns, the one formed first;
// of two groups, the one whose first post was observed first. The survivor
// keeps its campaign ID; the others' IDs are reported as absorbed.

// link adds the post in slot, just stored, to the groups in d.linked and
// reports what that means.
func (d *Detector) link(slot int32) Result {
	if len(d.linked) == 0 {
		return Result{}
	}
	groups := make([]int32, 0, len(d.linked))
	for _, ref := range d.linked {
		if ref < 0 {
			ref = d.newGroup(-1 - ref)
		}
		groups = append(groups, ref)
	}
	survivor := slices.MinFunc(groups, func(a, b int32) int { return d.compareAge(d.groups[a], d.groups[b]) })
	s := d.groups[survivor]
	var joined []int32
	var absorbed []CampaignID
	for _, g := range groups {
		if g == survivor {
			continue
		}
		switch og := d.groups[g]; {
		case og.campaign != 0:
			absorbed = append(absorbed, og.campaign)
			delete(d.campaigns, og.campaign)
		case s.campaign != 0:
			joined = append(joined, og.members...)
		}
	}
	into := d.merge(groups, s)
	d.addMember(into, slot)
	g := d.groups[into]
	if g.campaign != 0 {
		slices.Sort(absorbed)
		return Result{Campaign: g.campaign, Joined: d.membersOf(append(joined, slot)), Absorbed: absorbed}
	}
	if len(g.accounts) < d.cfg.MinAccounts {
		return Result{}
	}
	members := d.membersOf(g.members)
	g.campaign = d.founder(members)
	g.formedSeq = d.posts[slot].seq
	g.accounts = nil
	d.campaigns[g.campaign] = into
	return Result{Campaign: g.campaign, Formed: true, Joined: members}
}

// compareAge orders groups by which survives a merge: negative if a does.
func (d *Detector) compareAge(a, b *group) int {
	switch {
	case a.campaign != 0 && b.campaign != 0:
		return cmp.Compare(a.formedSeq, b.formedSeq)
	case a.campaign != 0:
		return -1
	case b.campaign != 0:
		return 1
	}
	return cmp.Compare(a.firstSeq, b.firstSeq)
}

// founder picks the ID of a new campaign: the post ID of its earliest
// member, or of the next one if a live campaign already has that ID (which
// only a post observed again after MaxPosts pushed it out can cause).
func (d *Detector) founder(members []Member) CampaignID {
	for _, m := range members {
		if _, taken := d.campaigns[CampaignID(m.PostID)]; !taken && m.PostID != 0 {
			return CampaignID(m.PostID)
		}
	}
	// Every member's ID is taken or zero: fall back to a number no post
	// has, counting down from -1, so IDs stay unique.
	id := CampaignID(-1)
	for {
		if _, taken := d.campaigns[id]; !taken {
			return id
		}
		id--
	}
}

// newGroup makes a group of the lone post in slot and returns its number.
func (d *Detector) newGroup(slot int32) int32 {
	p := &d.posts[slot]
	g := &group{members: []int32{slot}, firstSeq: p.seq, accounts: map[int64]int32{p.account: 1}}
	var n int32
	if k := len(d.freeGroup); k > 0 {
		n = d.freeGroup[k-1]
		d.freeGroup = d.freeGroup[:k-1]
		d.groups[n] = g
	} else {
		n = int32(len(d.groups))
		d.groups = append(d.groups, g)
	}
	p.group, p.memberAt = n, 0
	return n
}

// merge moves the members of all groups into one and gives it the identity
// of survivor. The members move into the largest group, so that a post
// changes group O(log n) times at most over a campaign's life.
func (d *Detector) merge(groups []int32, survivor *group) int32 {
	into := slices.MaxFunc(groups, func(a, b int32) int {
		return cmp.Or(cmp.Compare(len(d.groups[a].members), len(d.groups[b].members)), cmp.Compare(b, a))
	})
	dst := d.groups[into]
	for _, g := range groups {
		if g == into {
			continue
		}
		src := d.groups[g]
		for _, m := range src.members {
			d.posts[m].group, d.posts[m].memberAt = into, int32(len(dst.members))
			dst.members = append(dst.members, m)
		}
		if dst.accounts != nil && src.accounts != nil {
			for a, n := range src.accounts {
				dst.accounts[a] += n
			}
		}
		d.groups[g] = nil
		d.freeGroup = append(d.freeGroup, g)
	}
	if dst != survivor {
		dst.firstSeq, dst.campaign, dst.formedSeq = survivor.firstSeq, survivor.campaign, survivor.formedSeq
	}
	if dst.campaign != 0 {
		dst.accounts = nil
		d.campaigns[dst.campaign] = into
	}
	return into
}

// addMember puts the post in slot into group g.
func (d *Detector) addMember(g, slot int32) {
	gr := d.groups[g]
	p := &d.posts[slot]
	p.group, p.memberAt = g, int32(len(gr.members))
	gr.members = append(gr.members, slot)
	if gr.accounts != nil {
		gr.accounts[p.account]++
	}
}

// removeMember takes the post in slot out of its group, and ends the group
// when it was the last member.
func (d *Detector) removeMember(slot int32) {
	p := &d.posts[slot]
	g := p.group
	if g < 0 {
		return
	}
	gr := d.groups[g]
	last := gr.members[len(gr.members)-1]
	gr.members[p.memberAt] = last
	d.posts[last].memberAt = p.memberAt
	gr.members = gr.members[:len(gr.members)-1]
	if gr.accounts != nil {
		if gr.accounts[p.account]--; gr.accounts[p.account] == 0 {
			delete(gr.accounts, p.account)
		}
	}
	if len(gr.members) == 0 {
		if gr.campaign != 0 {
			delete(d.campaigns, gr.campaign)
		}
		d.groups[g] = nil
		d.freeGroup = append(d.freeGroup, g)
	}
	p.group = -1
}

// membersOf describes the posts in slots, in the order they were observed.
func (d *Detector) membersOf(slots []int32) []Member {
	sorted := slices.Clone(slots)
	slices.SortFunc(sorted, func(a, b int32) int { return cmp.Compare(d.posts[a].seq, d.posts[b].seq) })
	out := make([]Member, len(sorted))
	for i, s := range sorted {
		p := &d.posts[s]
		out[i] = Member{PostID: p.id, AccountID: p.account, ChatID: p.chat, At: time.Unix(0, p.at).UTC()}
	}
	return out
}
