package screen_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"parley"
	"parley/internal/messaging"
	"parley/internal/safety/banks"
	"parley/internal/safety/enforce"
	"parley/internal/safety/screen"
	"parley/internal/sor"
)

// countingRemover records how many removals each transaction of
// re-screening carried (an image and every post that carries it).
type countingRemover struct {
	screen.Remover
	mu           sync.Mutex
	transactions [][2]int // images, removals
}

func (c *countingRemover) ApplyMany(ctx context.Context, actor *parley.User, reqs []enforce.Request) ([]*enforce.Action, []error, error) {
	actions, errs, err := c.Remover.ApplyMany(ctx, actor, reqs)
	images, removals := 0, 0
	for i, a := range actions {
		if err == nil && errs[i] == nil {
			images++
			removals += 1 + a.Children
		}
	}
	c.mu.Lock()
	c.transactions = append(c.transactions, [2]int{images, removals})
	c.mu.Unlock()
	return actions, errs, err
}

// TestRescanRemovesInShortTransactions: when a bank change matches many
// stored images, re-screening removes them in transactions of about
// screen.RemovalBudget removals each (an image and the post that carries
// it are two), not a hundred images at once, so that posts written
// meanwhile wait for one short transaction at most; every image and post
// is removed all the same.
func TestRescanRemovesInShortTransactions(t *testing.T) {
	p := setup(t)
	ctx := context.Background()
	sys := banks.SystemActor("test", "")
	files, err := filepath.Glob(filepath.Join("..", "..", "..", "testdata", "pdq", "*.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	var md5s []string
	media := map[string]bool{} // each posted once, so each is two removals
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		img, err := p.msg.UploadImage(ctx, p.author, data)
		if err != nil || media[img.ID] {
			continue // too small for the upload limits, or the same bytes as another: others will do
		}
		if _, err := p.msg.PostMessage(ctx, p.author, p.group.ID, messaging.PostInput{MediaID: img.ID}); err != nil {
			t.Fatal(err)
		}
		sum := md5.Sum(data)
		md5s = append(md5s, hex.EncodeToString(sum[:]))
		media[img.ID] = true
	}
	if len(md5s) < 2*screen.RemovalBudget/2+1 {
		t.Fatalf("only %d images uploaded: too few for more than one transaction", len(md5s))
	}
	rm := &countingRemover{Remover: p.enforce}
	rs := &screen.Rescanner{Store: p.db, Screen: p.screen, Enforce: rm, Clock: p.clock}
	if err := rs.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	bank, err := p.banks.CreateBank(ctx, sys, banks.Bank{Name: "known", Kind: banks.KindBlock,
		Category: string(sor.CategoryRiskForPublicSecurity), Keywords: []string{string(sor.KeywordTerroristContent)},
		Action: banks.ActionRemove, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.banks.Import(ctx, sys, bank.ID, strings.NewReader(strings.Join(md5s, "\n")+"\n"),
		banks.ImportOptions{Format: banks.FormatHMA, Type: banks.TypeMD5, Source: "test"}); err != nil {
		t.Fatal(err)
	}
	if err := rs.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	images, removals := 0, 0
	for _, tx := range rm.transactions {
		images += tx[0]
		removals += tx[1]
		if tx[1] > screen.RemovalBudget {
			t.Errorf("a transaction carried %d images with %d removals; the budget is %d", tx[0], tx[1], screen.RemovalBudget)
		}
	}
	if images != len(media) || removals != 2*len(media) {
		t.Fatalf("%d images and %d removals in %d transactions, want %d and %d", images, removals, len(rm.transactions), len(media), 2*len(media))
	}
	for _, m := range p.history(t, p.author, p.group) {
		if m.MediaID != "" {
			t.Fatalf("post %d still shows its image", m.Seq)
		}
	}
}
