package audit_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"parley/internal/safety/enforce"
)

// The audited acts that docs/architecture.md lists are exactly the ones the
// code writes: an act added to the code without a line in the table, or a
// line left after the act is gone, fails here.
func TestDocumentedAuditActionsMatchTheCode(t *testing.T) {
	root := filepath.Join("..", "..")
	written := auditActionsInCode(t, root)
	documented := auditActionsInDocs(t, filepath.Join(root, "docs", "architecture.md"))
	if len(written) < 20 {
		t.Fatalf("found only %d audit actions in the code (%v): the search below no longer sees how they are written", len(written), written)
	}
	for a := range written {
		if !documented[a] {
			t.Errorf("the code writes audit action %q, which docs/architecture.md (\"Audit log\") does not list", a)
		}
	}
	for a := range documented {
		if !written[a] {
			t.Errorf("docs/architecture.md lists audit action %q, which no code writes", a)
		}
	}
}

var (
	// An entry's action written in place (Action: "review.decided") or
	// named by a constant (AuditBankCreated = "bank.created").
	actionLiteral  = regexp.MustCompile(`\bAction:\s*"([a-z_]+\.[a-z_]+)"`)
	actionConstant = regexp.MustCompile(`\bAudit\w*\s*=\s*"([a-z_]+\.[a-z_]+)"`)
	// Enforcement writes "enforcement." + the action's kind.
	enforcementAction = regexp.MustCompile(`Action:\s*"enforcement\."\s*\+\s*string\(`)
	// A row of the documented table: | `bank.created` | ...
	documentedAction = regexp.MustCompile("(?m)^\\| `([a-z_]+\\.[a-z_]+)` \\|")
)

func auditActionsInCode(t *testing.T, root string) map[string]bool {
	t.Helper()
	found := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "testdata", "storetest": // storetest writes made-up acts
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, re := range []*regexp.Regexp{actionLiteral, actionConstant} {
			for _, m := range re.FindAllSubmatch(src, -1) {
				found[string(m[1])] = true
			}
		}
		if enforcementAction.Match(src) {
			for _, k := range enforce.Kinds {
				found["enforcement."+string(k)] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func auditActionsInDocs(t *testing.T, path string) map[string]bool {
	t.Helper()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(string(doc), "## Audit log")
	if start < 0 {
		t.Fatalf("%s has no \"## Audit log\" section", path)
	}
	section := string(doc[start+len("## Audit log"):])
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	found := map[string]bool{}
	for _, m := range documentedAction.FindAllStringSubmatch(section, -1) {
		if found[m[1]] {
			t.Errorf("docs/architecture.md lists audit action %q twice", m[1])
		}
		found[m[1]] = true
	}
	return found
}
