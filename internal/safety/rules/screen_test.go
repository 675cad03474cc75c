package rules

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestScreenKeywordDisguises(t *testing.T) {
	rs := mustCompile(t, Rule{ID: "fraud", Version: 3, Keywords: []string{"fraud", "free crypto"},
		Action: ActionRemove, Mode: ModeEnforce, Category: "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"})
	match := []string{
		"this is fraud", "FRAUD!", "ＦＲＡＵＤ", "fráud", "fr\u200baud", "frаud" /* Cyrillic а */, "fr4ud", "fr@ud",
		"ＦＲ\u200b4Ú\u200d𝐝", "🇫🇷🇦🇺🇩", "fraudster", "get FREE\n\n  CRYPTO", "frее сrурtо" /* Cyrillic е с р у о */, "fr33 crypt0",
	}
	for _, text := range match {
		res := rs.Screen(text, Context{})
		if len(res.Matches) != 1 {
			t.Errorf("%q: %d matches, want 1 (skeleton %q)", text, len(res.Matches), Normalize(text))
			continue
		}
		m := res.Matches[0]
		if m.RuleID != "fraud" || m.Version != 3 || m.Kind != KindKeyword || m.Action != ActionRemove ||
			m.Category != "STATEMENT_CATEGORY_SCAMS_AND_FRAUD" || res.Decision != ActionRemove {
			t.Errorf("%q: %+v decision %q", text, m, res.Decision)
		}
		if m.Pattern != "fraud" && m.Pattern != "free crypto" {
			t.Errorf("%q: pattern %q is not a keyword as written", text, m.Pattern)
		}
	}
	for _, text := range []string{"fra ud", "f-r-a-u-d", "frwud", "free crypt", ""} {
		if res := rs.Screen(text, Context{}); len(res.Matches) != 0 {
			t.Errorf("%q matched %+v", text, res.Matches)
		}
	}
}

// TestScreenOverlappingKeywords checks that every rule whose keyword occurs
// is found, even when keywords of different rules overlap or nest.
func TestScreenOverlappingKeywords(t *testing.T) {
	rs := mustCompile(t,
		Rule{ID: "a", Version: 1, Keywords: []string{"scam"}, Action: ActionHold, Mode: ModeEnforce},
		Rule{ID: "b", Version: 1, Keywords: []string{"scammer"}, Action: ActionHold, Mode: ModeEnforce},
		Rule{ID: "c", Version: 1, Keywords: []string{"ammer"}, Action: ActionHold, Mode: ModeEnforce},
		Rule{ID: "d", Version: 1, Keywords: []string{"scam", "sc4m"}, Action: ActionHold, Mode: ModeEnforce},
	)
	if got := matchedIDs(rs.Screen("what a scammer", Context{})); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Errorf("matched %v", got)
	}
}

func TestScreenRegexps(t *testing.T) {
	rs := mustCompile(t,
		Rule{ID: "shortener", Version: 1, Regexps: []string{`\b(?:bit\.ly|t\.me)/[a-z0-9]{4,}\b`}, Action: ActionHold, Mode: ModeEnforce},
		Rule{ID: "phone", Version: 1, Regexps: []string{`\+?\d{2,3}[ -]?\d{3}[ -]?\d{4}`}, Action: ActionLabel, Label: "phone", Mode: ModeEnforce},
		Rule{ID: "crypto", Version: 1, Regexps: []string{`(?i)free\s+crypto`}, Action: ActionRemove, Mode: ModeEnforce},
		Rule{ID: "case", Version: 1, Regexps: []string{`\bBTC\b`}, Action: ActionLabel, Label: "btc", Mode: ModeEnforce},
	)
	tests := []struct {
		text string
		want []string
	}{
		{"join t.me/abcd1234 now", []string{"shortener"}},
		{"join t.me/ab now", nil},
		{"call +49 170 1234567", []string{"phone"}},
		{"call +49\u00a0170\u2009123\u20024567", []string{"phone"}}, // odd spaces are spaces in the clean view
		{"FREE   crypto", []string{"crypto"}},
		{"free\u200b crypto", []string{"crypto"}},
		{"ｆｒｅｅ crypto", []string{"crypto"}}, // NFKC
		{"buy BTC", []string{"case"}},
		{"buy btc", nil}, // regexps see case as written; (?i) is the author's choice
		{"t.me/abcd12 and +44 123 4567 and free crypto", []string{"shortener", "phone", "crypto"}},
	}
	for _, tt := range tests {
		res := rs.Screen(tt.text, Context{})
		if got := matchedIDs(res); !slices.Equal(got, tt.want) {
			t.Errorf("%q matched %v, want %v", tt.text, got, tt.want)
		}
		for _, m := range res.Matches {
			if m.Kind != KindRegexp || m.Pattern == "" {
				t.Errorf("%q: %+v", tt.text, m)
			}
		}
	}
}

func TestScreenDomains(t *testing.T) {
	rs := mustCompile(t,
		Rule{ID: "evil", Version: 1, Domains: []string{"evil.example"}, Action: ActionBlock, Mode: ModeEnforce},
		Rule{ID: "pay", Version: 1, Domains: []string{"paypal.example"}, Action: ActionBlock, Mode: ModeEnforce},
		Rule{ID: "ip", Version: 1, Domains: []string{"203.0.113.9"}, Action: ActionBlock, Mode: ModeEnforce},
	)
	tests := []struct {
		text string
		want []string
	}{
		{"visit evil.example", []string{"evil"}},
		{"https://evil.example/join?x=1", []string{"evil"}},
		{"http://mail.evil.example:8080/", []string{"evil"}},
		{"a.b.c.evil.example/path", []string{"evil"}},
		{"EVIL.EXAMPLE", []string{"evil"}},
		{"(see evil.example.)", []string{"evil"}},
		{"wait...evil.example", []string{"evil"}},
		{"evil[.]example", []string{"evil"}},
		{"hxxps://evil(.)example/a", []string{"evil"}},
		{"evil [dot] example", []string{"evil"}},
		{"evil\u3002example", []string{"evil"}}, // ideographic full stop
		{"ｅｖｉｌ．ｅｘａｍｐｌｅ", []string{"evil"}},      // fullwidth
		{"write to me@evil.example", []string{"evil"}},
		{"evil.\u200bexample", []string{"evil"}},
		{"раураl.example", []string{"pay"}}, // Cyrillic р а у а
		{"paypa1.example", []string{"pay"}},
		{"http://203.0.113.9/x", []string{"ip"}},
		{"notevil.example", nil},
		{"evil.example.org", nil},
		{"evil.examples", nil},
		{"evilexample", nil},
		{"evil example", nil},
		{"the evil. example", nil},
		{"203.0.113.99", nil},
	}
	for _, tt := range tests {
		res := rs.Screen(tt.text, Context{})
		if got := matchedIDs(res); !slices.Equal(got, tt.want) {
			t.Errorf("%q matched %v, want %v", tt.text, got, tt.want)
		}
		for _, m := range res.Matches {
			if m.Kind != KindDomain {
				t.Errorf("%q: kind %q", tt.text, m.Kind)
			}
		}
	}
}

func TestScreenURLs(t *testing.T) {
	rs := mustCompile(t, Rule{ID: "chan", Version: 1, URLs: []string{"https://t.me/scamchannel", "example.org"},
		Action: ActionRemove, Mode: ModeEnforce})
	tests := []struct {
		text    string
		pattern string
	}{
		{"https://t.me/scamchannel", "https://t.me/scamchannel"},
		{"join t.me/scamchannel/123 now", "https://t.me/scamchannel"},
		{"T.ME/ScamChannel?start=1", "https://t.me/scamchannel"},
		{"www.t.me/scamchannel/", "https://t.me/scamchannel"},
		{"t.me/scamchannel.", "https://t.me/scamchannel"},
		{"http://example.org/anything", "example.org"},
		{"t.me/scamchannel2", ""},
		{"t.me/other", ""},
		{"x.t.me/scamchannel", ""},
		{"sub.example.org/x", ""}, // URLs match their exact host; Domains cover subdomains
	}
	for _, tt := range tests {
		res := rs.Screen(tt.text, Context{})
		var got string
		if len(res.Matches) == 1 && res.Matches[0].Kind == KindURL {
			got = res.Matches[0].Pattern
		}
		if got != tt.pattern || len(res.Matches) > 1 {
			t.Errorf("%q: matched %+v, want pattern %q", tt.text, res.Matches, tt.pattern)
		}
	}
}

func TestScreenConditions(t *testing.T) {
	rs := mustCompile(t,
		Rule{ID: "new-in-channel", Version: 1, Keywords: []string{"giveaway"},
			Condition: `account_age_days < 7 && chat_kind == "channel"`, Action: ActionHold, Mode: ModeEnforce},
		Rule{ID: "repeat-offender", Version: 1, Condition: `strikes >= 3 && subscriber_count > 1000 && !verified`,
			Action: ActionHold, Mode: ModeEnforce},
		Rule{ID: "country", Version: 1, Keywords: []string{"lottery"}, Condition: `country in ["DE", "AT"]`,
			Action: ActionLabel, Label: "gambling", Mode: ModeEnforce},
	)
	tests := []struct {
		text string
		ctx  Context
		want []string
	}{
		{"big giveaway", Context{AccountAgeDays: 2, ChatKind: "channel"}, []string{"new-in-channel"}},
		{"big giveaway", Context{AccountAgeDays: 30, ChatKind: "channel"}, nil},
		{"big giveaway", Context{AccountAgeDays: 2, ChatKind: "group"}, nil},
		{"hello", Context{AccountAgeDays: 2, ChatKind: "channel"}, nil},
		{"hello", Context{Strikes: 3, SubscriberCount: 5000}, []string{"repeat-offender"}},
		{"hello", Context{Strikes: 3, SubscriberCount: 5000, Verified: true}, nil},
		{"lottery", Context{Country: "AT"}, []string{"country"}},
		{"lottery", Context{Country: "FR"}, nil},
	}
	for _, tt := range tests {
		res := rs.Screen(tt.text, tt.ctx)
		if got := matchedIDs(res); !slices.Equal(got, tt.want) {
			t.Errorf("%q %+v matched %v, want %v", tt.text, tt.ctx, got, tt.want)
		}
	}
	res := rs.Screen("x", Context{Strikes: 5, SubscriberCount: 2000})
	if m := res.Matches[0]; m.Kind != KindCondition || m.Pattern != `strikes >= 3 && subscriber_count > 1000 && !verified` {
		t.Errorf("condition-only match %+v", m)
	}
}

func TestScreenConditionRuntimeError(t *testing.T) {
	rs := mustCompile(t,
		Rule{ID: "buggy", Version: 4, Keywords: []string{"spam"}, Condition: `[1, 2][strikes] == 1`, Action: ActionBlock, Mode: ModeEnforce},
		Rule{ID: "fine", Version: 1, Keywords: []string{"spam"}, Action: ActionLabel, Label: "spam", Mode: ModeEnforce},
	)
	res := rs.Screen("spam", Context{Strikes: 9})
	if got := matchedIDs(res); !slices.Equal(got, []string{"fine"}) || res.Decision != ActionLabel {
		t.Errorf("matched %v decision %q", got, res.Decision)
	}
	if len(res.Errors) != 1 || res.Errors[0].RuleID != "buggy" || res.Errors[0].Version != 4 || res.Errors[0].Message == "" {
		t.Errorf("errors %+v", res.Errors)
	}
	if res := rs.Screen("spam", Context{Strikes: 0}); res.Decision != ActionBlock || len(res.Errors) != 0 {
		t.Errorf("with a valid index: %+v", res)
	}
}

func TestScreenDecision(t *testing.T) {
	rule := func(id string, a Action, m Mode) Rule {
		return Rule{ID: id, Version: 1, Keywords: []string{"bad"}, Action: a, Mode: m, Label: "l"}
	}
	tests := []struct {
		name  string
		rules []Rule
		want  Action
	}{
		{"block beats all", []Rule{rule("l", ActionLabel, ModeEnforce), rule("b", ActionBlock, ModeEnforce), rule("h", ActionHold, ModeEnforce), rule("r", ActionRemove, ModeEnforce)}, ActionBlock},
		{"remove beats hold and label", []Rule{rule("h", ActionHold, ModeEnforce), rule("r", ActionRemove, ModeEnforce), rule("l", ActionLabel, ModeEnforce)}, ActionRemove},
		{"hold beats label", []Rule{rule("l", ActionLabel, ModeEnforce), rule("h", ActionHold, ModeEnforce)}, ActionHold},
		{"label alone", []Rule{rule("l", ActionLabel, ModeEnforce)}, ActionLabel},
		{"shadow block does not decide", []Rule{rule("b", ActionBlock, ModeShadow), rule("l", ActionLabel, ModeEnforce)}, ActionLabel},
		{"shadow only", []Rule{rule("b", ActionBlock, ModeShadow), rule("r", ActionRemove, ModeShadow)}, ActionNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := mustCompile(t, tt.rules...)
			res := rs.Screen("this is bad", Context{})
			if res.Decision != tt.want {
				t.Errorf("decision %q, want %q", res.Decision, tt.want)
			}
			// Every matching rule is recorded, shadow or not, in rule order.
			var want []string
			for _, r := range tt.rules {
				want = append(want, r.ID)
			}
			if got := matchedIDs(res); !slices.Equal(got, want) {
				t.Errorf("matches %v, want %v", got, want)
			}
			for i, m := range res.Matches {
				if m.Mode != tt.rules[i].Mode || m.Action != tt.rules[i].Action {
					t.Errorf("match %+v does not carry its rule's mode and action", m)
				}
			}
		})
	}
}

// TestScreenFirstPatternReported checks which pattern a Match names when a
// rule matches several ways: keywords, then regexps, URLs and domains.
func TestScreenFirstPatternReported(t *testing.T) {
	rs := mustCompile(t, Rule{ID: "multi", Version: 7, Keywords: []string{"prize"}, Regexps: []string{`claim\s+now`},
		Domains: []string{"win.example"}, URLs: []string{"win.example/claim"}, Action: ActionHold, Mode: ModeEnforce})
	for text, want := range map[string]Match{
		"prize: claim now at win.example/claim": {Kind: KindKeyword, Pattern: "prize"},
		"claim now at win.example/claim":        {Kind: KindRegexp, Pattern: `claim\s+now`},
		"go to win.example/claim":               {Kind: KindURL, Pattern: "win.example/claim"},
		"go to win.example":                     {Kind: KindDomain, Pattern: "win.example"},
	} {
		res := rs.Screen(text, Context{})
		if len(res.Matches) != 1 || res.Matches[0].Kind != want.Kind || res.Matches[0].Pattern != want.Pattern || res.Matches[0].Version != 7 {
			t.Errorf("%q: %+v, want %s %q", text, res.Matches, want.Kind, want.Pattern)
		}
	}
}

// TestKeywordAutomatonDifferential checks the automaton against a naive
// matcher, strings.Contains over the normalised text, on random keyword sets
// and texts drawn from a small alphabet with look-alikes and disguises, so
// that keywords overlap, nest and repeat.
func TestKeywordAutomatonDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	pieces := []string{"a", "b", "c", "l", "i", "1", "4", "s", "$", "@", "а", "é", " ", "\u200b", "ab", "ca", "Б", "日"}
	randText := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.String()
	}
	for round := range 60 {
		var rules []Rule
		for i := range 1 + rng.IntN(20) {
			r := Rule{ID: fmt.Sprint("r", i), Version: 1, Action: ActionHold, Mode: ModeEnforce}
			for len(r.Keywords) < 1+rng.IntN(4) {
				kw := randText(2 + rng.IntN(4))
				if n := Normalize(kw); len(n) < MinKeywordBytes {
					continue
				}
				r.Keywords = append(r.Keywords, kw)
			}
			rules = append(rules, r)
		}
		rs := mustCompile(t, rules...)
		for range 200 {
			text := randText(rng.IntN(40))
			norm := Normalize(text)
			var want []string
			for _, r := range rules {
				for _, kw := range r.Keywords {
					if strings.Contains(norm, Normalize(kw)) {
						want = append(want, r.ID)
						break
					}
				}
			}
			if got := matchedIDs(rs.Screen(text, Context{})); !slices.Equal(got, want) {
				t.Fatalf("round %d, text %q (normalised %q): automaton %v, naive %v", round, text, norm, got, want)
			}
		}
	}
}

// TestRegexpSetDifferential checks the RE2 set against the standard library
// matching each expression alone, and the fallback path against both.
func TestRegexpSetDifferential(t *testing.T) {
	w := newBenchWorld(0, 200, 0, 0, 1000)
	var rules []Rule
	for i, re := range w.regexps {
		rules = append(rules, Rule{ID: fmt.Sprint("re", i), Version: 1, Regexps: []string{re}, Action: ActionHold, Mode: ModeEnforce})
	}
	rs := mustCompile(t, rules...)
	std := make([]*regexp.Regexp, len(w.regexps))
	for i, re := range w.regexps {
		std[i] = regexp.MustCompile(re)
	}
	// Posts that hit the expressions: the generator's posts plus texts
	// built to match each template.
	texts := append([]string(nil), w.posts...)
	for i, sample := range w.regexpSamples {
		texts = append(texts, sample, w.posts[i]+" "+sample+" "+w.regexpSamples[(i*7)%len(w.regexpSamples)])
	}
	hits := 0
	sc := rs.pool.Get().(*scratch)
	for _, text := range texts {
		var want []string
		clean := string(appendClean(nil, text, new([]byte)))
		for i, re := range std {
			if re.MatchString(clean) {
				want = append(want, rules[i].ID)
			}
		}
		hits += len(want)
		if got := matchedIDs(rs.Screen(text, Context{})); !slices.Equal(got, want) {
			t.Fatalf("%q: set %v, one by one %v", text, got, want)
		}
		sc.clean = appendClean(sc.clean[:0], text, &sc.tmp)
		slow := slices.Clone(rs.matchRegexpsOneByOne(sc))
		fast, err := rs.reSet.FindAllWithError(sc.clean, -1)
		slices.Sort(fast)
		if err != nil || !slices.Equal(slow, fast) {
			t.Fatalf("%q: fallback %v, set %v (%v)", text, slow, fast, err)
		}
	}
	for i, sample := range w.regexpSamples {
		if !slices.Contains(matchedIDs(rs.Screen(sample, Context{})), rules[i].ID) {
			t.Errorf("sample %q does not match its expression `%s`", sample, w.regexps[i])
		}
	}
	if hits < len(w.regexps) {
		t.Errorf("only %d regexp hits: the differential test is not testing much", hits)
	}
}

// TestScreenConcurrent screens the same posts from several goroutines and
// checks every result equals the sequential one. Run with -race.
func TestScreenConcurrent(t *testing.T) {
	w := newBenchWorld(2000, 50, 200, 50, 400)
	rs := mustCompile(t, w.rules...)
	want := make([]Result, len(w.posts))
	for i, p := range w.posts {
		want[i] = rs.Screen(p, w.ctxs[i])
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for k := range len(w.posts) {
				i := (k + g*53) % len(w.posts)
				if got := rs.Screen(w.posts[i], w.ctxs[i]); !reflect.DeepEqual(got, want[i]) {
					t.Errorf("post %d: concurrent %+v, sequential %+v", i, got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
	matched := 0
	for _, r := range want {
		if len(r.Matches) > 0 {
			matched++
		}
	}
	if matched == 0 {
		t.Error("no post matched: the test is not testing much")
	}
}

func TestBacktest(t *testing.T) {
	rs := mustCompile(t,
		Rule{ID: "live", Version: 1, Keywords: []string{"spam"}, Action: ActionBlock, Mode: ModeEnforce},
		Rule{ID: "draft", Version: 2, Keywords: []string{"giveaway"}, Condition: `chat_kind == "channel"`,
			Action: ActionRemove, Mode: ModeShadow},
	)
	messages := func(yield func(int64, string, Context) bool) {
		for i := range int64(1000) {
			text, kind := "hello", "group"
			if i%10 == 0 {
				text = "big GIVEAWAY " + strings.Repeat("é", 300)
			}
			if i%20 == 0 {
				kind = "channel"
			}
			if i%7 == 0 {
				text += " spam"
			}
			if !yield(i, text, Context{ChatKind: kind}) {
				return
			}
		}
	}
	rep, err := Backtest(rs, "draft", messages)
	if err != nil {
		t.Fatal(err)
	}
	// Messages 0, 20, 40, …: a multiple of 10 in a channel.
	if rep.RuleID != "draft" || rep.Version != 2 || rep.Scanned != 1000 || rep.Hits != 50 || len(rep.Sample) != 50 {
		t.Fatalf("report %+v", rep)
	}
	h := rep.Sample[1]
	if h.ID != 20 || h.Kind != KindKeyword || h.Pattern != "giveaway" || len(h.Excerpt) > backtestExcerptBytes+len("…") ||
		!strings.HasPrefix(h.Excerpt, "big GIVEAWAY é") || !strings.HasSuffix(h.Excerpt, "é…") {
		t.Errorf("hit %+v", h)
	}

	// The sample keeps the first BacktestSampleSize hits; the count goes on.
	rep, _ = Backtest(rs, "live", messages)
	if rep.Hits != 143 || len(rep.Sample) != BacktestSampleSize || rep.Sample[0].ID != 0 || rep.Sample[1].ID != 7 {
		t.Errorf("report %+v", rep)
	}

	if _, err := Backtest(rs, "nope", messages); err == nil || !strings.Contains(err.Error(), `no rule "nope"`) {
		t.Errorf("unknown rule: %v", err)
	}
}

// TestScreenAllocations checks that screening a post that matches nothing
// allocates nothing once the pool is warm, for ASCII and Unicode posts, when
// no rule is condition-only (expr boxes the values it reads, so a condition
// that runs allocates a few bytes).
func TestScreenAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop buffers on purpose")
	}
	w := newBenchWorld(2000, 50, 200, 50, 0)
	rs := mustCompile(t, w.rules[:len(w.rules)-1]...) // all but the condition-only rule
	for _, text := range []string{
		"nothing to see here, just a post about the weather today",
		"café naïve Привет 東京 😀 nothing here either, see https://example.org/x and 12:30",
	} {
		if res := rs.Screen(text, Context{}); len(res.Matches) != 0 {
			t.Fatalf("%q matched %+v", text, res.Matches)
		}
		if n := testing.AllocsPerRun(200, func() { rs.Screen(text, Context{}) }); n != 0 {
			t.Errorf("%q: %.1f allocations per Screen", text, n)
		}
	}
}
