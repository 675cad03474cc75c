package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"parley"
	"parley/internal/app"
	"parley/internal/safety/banks"
	"parley/internal/store/sqlite"
)

const banksUsage = `Usage: parley banks <command> [flags] [arguments]

Manage hash banks: lists of known content (PDQ hashes, MD5 and SHA-256 of
files, URLs, domains) that uploads and posts are matched against. The
command line acts as the system in the audit log, naming the command.

Commands:
  list                              list the banks
  create -name NAME -kind block|allow [-category STATEMENT_CATEGORY_...]
         [-action block_upload|remove|review|label] [-label TEXT]
         [-keywords KEYWORD_...,...] [-description TEXT] [-disabled]
                                    create a bank
  enable NAME, disable NAME         start or stop matching a bank
  import -bank NAME -format threatexchange|hma|pdq [-type TYPE] [-source TEXT] FILE
                                    import entries from FILE (- for standard
                                    input), all or nothing; every bad line is
                                    reported
  export -bank NAME -format threatexchange|hma|pdq [-type TYPE] [-o FILE]
                                    write a bank's entries (to standard output)
  add -bank NAME -type TYPE -source TEXT [-note TEXT] VALUE...
  remove -bank NAME -type TYPE [-reason TEXT] VALUE...

Types: pdq, md5, sha256, url, domain. Formats (see docs/banks.md):
  threatexchange  python-threatexchange's CSV: collab,signal_type,signal_str,category,tags
  hma             HMA's sample-data CSV, one type per file: signal[,id[,added_on[,tags]]]
  pdq             pdq-photo-hasher and 'parley hash' output: hash,quality,file

Every command also takes the database flags (-data-dir, -database-url, and
their PARLEY_* variables); run 'parley banks <command> -h' for all flags.
`

// runBanks implements 'parley banks'.
func runBanks(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		if len(args) == 0 {
			fmt.Fprint(stderr, banksUsage)
			return errors.New("banks: name a command")
		}
		fmt.Fprint(stdout, banksUsage)
		return nil
	}
	sub, args := args[0], args[1:]
	c := &banksCommand{name: "parley banks " + sub, stdin: stdin, stdout: stdout, stderr: stderr, cfg: app.DefaultConfig()}
	c.fs = flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.fs.SetOutput(stderr)
	c.cfg.Flags(c.fs)
	var run func(ctx context.Context) error
	switch sub {
	case "list":
		run = c.list
	case "create":
		run = c.create()
	case "enable":
		run = c.setEnabled(true)
	case "disable":
		run = c.setEnabled(false)
	case "import":
		run = c.importEntries()
	case "export":
		run = c.export()
	case "add":
		run = c.add()
	case "remove":
		run = c.remove()
	default:
		fmt.Fprint(stderr, banksUsage)
		return fmt.Errorf("banks: unknown command %q", sub)
	}
	if err := c.parse(args); err != nil {
		return err
	}
	db, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	c.svc = banks.NewService(db, parley.SystemClock{})
	c.actor = banks.SystemActor(c.name, osUser())
	if err := run(ctx); err != nil {
		return fmt.Errorf("banks %s: %w", sub, err)
	}
	return nil
}

// banksCommand is one run of a banks subcommand.
type banksCommand struct {
	name           string
	fs             *flag.FlagSet
	cfg            app.Config
	args           []string // positional arguments
	stdin          io.Reader
	stdout, stderr io.Writer
	svc            *banks.Service
	actor          banks.Actor
}

// parse parses flags and positional arguments in any order ("import FILE
// -bank x" as well as "import -bank x FILE").
func (c *banksCommand) parse(args []string) error {
	for {
		if err := c.fs.Parse(args); err != nil {
			return err
		}
		rest := c.fs.Args()
		if len(rest) == 0 {
			break
		}
		if rest[0] == "--" {
			c.args = append(c.args, rest[1:]...)
			break
		}
		c.args = append(c.args, rest[0])
		args = rest[1:]
	}
	return c.cfg.Validate()
}

func (c *banksCommand) open(ctx context.Context) (*sqlite.DB, error) {
	path := c.cfg.DatabasePath()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	return sqlite.Open(ctx, path)
}

// osUser names the operating-system user running the command, for the
// audit log.
func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}

// wantArgs checks the number of positional arguments.
func (c *banksCommand) wantArgs(min, max int, what string) error {
	if n := len(c.args); n < min || (max >= 0 && n > max) {
		c.fs.Usage()
		return fmt.Errorf("%s", what)
	}
	return nil
}

// bank finds the bank the -bank flag (or the one argument) names.
func (c *banksCommand) bank(ctx context.Context, name string) (*banks.Bank, error) {
	if name == "" {
		return nil, errors.New("name the bank with -bank NAME")
	}
	return c.svc.BankByName(ctx, c.actor, name)
}

func (c *banksCommand) list(ctx context.Context) error {
	if err := c.wantArgs(0, 0, "list takes no arguments"); err != nil {
		return err
	}
	bs, err := c.svc.Banks(ctx, c.actor)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tKIND\tACTION\tCATEGORY\tENABLED\tENTRIES")
	for _, b := range bs {
		action := string(b.Action)
		if b.Action == banks.ActionLabel {
			action += " (" + b.Label + ")"
		}
		enabled := "yes"
		if !b.Enabled {
			enabled = "no"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\n", b.ID, b.Name, b.Kind, dash(action), dash(strings.TrimPrefix(b.Category, "STATEMENT_CATEGORY_")), enabled, b.Entries)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (c *banksCommand) create() func(context.Context) error {
	var b banks.Bank
	var kind, action, keywords string
	var disabled bool
	c.fs.StringVar(&b.Name, "name", "", "the bank's name: letters, digits, '.', '-', '_'")
	c.fs.StringVar(&kind, "kind", "", "block (harmful content) or allow (known false positives)")
	c.fs.StringVar(&b.Category, "category", "", "the DSA statement category, STATEMENT_CATEGORY_... (required for block banks)")
	c.fs.StringVar(&action, "action", "", "what a match asks for: block_upload, remove, review or label (block banks)")
	c.fs.StringVar(&b.Label, "label", "", "the label shown with the label action")
	c.fs.StringVar(&keywords, "keywords", "", "DSA category specifications, KEYWORD_..., separated by commas")
	c.fs.StringVar(&b.Description, "description", "", "what the bank holds and where it comes from")
	c.fs.BoolVar(&disabled, "disabled", false, "create the bank disabled (it matches nothing until enabled)")
	return func(ctx context.Context) error {
		if err := c.wantArgs(0, 0, "create takes flags only"); err != nil {
			return err
		}
		b.Kind, b.Action, b.Enabled = banks.Kind(kind), banks.Action(action), !disabled
		for _, k := range strings.Split(keywords, ",") {
			if k = strings.TrimSpace(k); k != "" {
				b.Keywords = append(b.Keywords, k)
			}
		}
		got, err := c.svc.CreateBank(ctx, c.actor, b)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "created %s bank %s (id %d)\n", got.Kind, got.Name, got.ID)
		return nil
	}
}

func (c *banksCommand) setEnabled(enabled bool) func(context.Context) error {
	var name string
	c.fs.StringVar(&name, "bank", "", "the bank's name (or give it as the argument)")
	return func(ctx context.Context) error {
		if name == "" && len(c.args) == 1 {
			name = c.args[0]
		} else if err := c.wantArgs(0, 0, "name one bank"); err != nil {
			return err
		}
		b, err := c.bank(ctx, name)
		if err != nil {
			return err
		}
		was := b.Enabled
		if b, err = c.svc.SetBankEnabled(ctx, c.actor, b.ID, enabled); err != nil {
			return err
		}
		state := map[bool]string{true: "enabled", false: "disabled"}[enabled]
		if was == enabled {
			fmt.Fprintf(c.stdout, "bank %s was already %s\n", b.Name, state)
		} else {
			fmt.Fprintf(c.stdout, "bank %s %s\n", b.Name, state)
		}
		return nil
	}
}

func (c *banksCommand) importEntries() func(context.Context) error {
	var bankName, format, typ, source string
	c.fs.StringVar(&bankName, "bank", "", "the bank to import into")
	c.fs.StringVar(&format, "format", "", "threatexchange, hma or pdq")
	c.fs.StringVar(&typ, "type", "", "hma format: the entry type of every line (pdq, md5, sha256, url, domain); from the file name when it is one (pdq.csv, video_md5.csv)")
	c.fs.StringVar(&source, "source", "", "where the entries come from (NCMEC, ThreatExchange privacy group 123, ...); required for hma and pdq, the default for threatexchange lines without a collab")
	return func(ctx context.Context) error {
		if err := c.wantArgs(1, 1, "name one FILE to import (- for standard input)"); err != nil {
			return err
		}
		b, err := c.bank(ctx, bankName)
		if err != nil {
			return err
		}
		f, err := banks.ParseFormat(format)
		if err != nil {
			return err
		}
		opts := banks.ImportOptions{Format: f, Source: source, Name: c.args[0]}
		if typ != "" {
			t, err := banks.ParseSignalType(typ)
			if err != nil {
				return err
			}
			opts.Type = t
		} else if f == banks.FormatHMA && c.args[0] != "-" {
			// HMA's sample files are named after their signal type.
			stem := strings.TrimSuffix(filepath.Base(c.args[0]), filepath.Ext(c.args[0]))
			if t, err := banks.ParseSignalType(stem); err == nil {
				opts.Type = t
			}
		}
		var r io.Reader = c.stdin
		var size int64
		if c.args[0] != "-" {
			file, err := os.Open(c.args[0])
			if err != nil {
				return err
			}
			defer file.Close()
			if st, err := file.Stat(); err == nil && st.Mode().IsRegular() {
				size = st.Size()
			}
			r = file
		}
		pp := newProgressPrinter(c.stderr, c.name, size)
		opts.Progress = pp.update
		opts.OnError = func(le banks.LineError) { pp.println(c.args[0] + ": " + le.String()) }
		rep, err := c.svc.Import(ctx, c.actor, b.ID, r, opts)
		pp.finish()
		if err != nil {
			if rep.BadLines > 0 {
				// Every bad line was printed as it was found.
				return fmt.Errorf("%s: %s bad (listed above); nothing was imported", c.args[0], plural(rep.BadLines, "line is", "lines are"))
			}
			return err
		}
		fmt.Fprintf(c.stdout, "imported %s into bank %s from %s", plural(rep.Added, "entry", "entries"), b.Name, plural(rep.Lines, "line", "lines"))
		if rep.Duplicates > 0 {
			fmt.Fprintf(c.stdout, "; %s already held, ignored", thousands(rep.Duplicates))
		}
		if rep.LastChange > 0 {
			fmt.Fprintf(c.stdout, " (changes %d to %d)", rep.FirstChange, rep.LastChange)
		}
		fmt.Fprintln(c.stdout)
		return nil
	}
}

func (c *banksCommand) export() func(context.Context) error {
	var bankName, format, typ, out string
	c.fs.StringVar(&bankName, "bank", "", "the bank to export")
	c.fs.StringVar(&format, "format", "", "threatexchange, hma or pdq")
	c.fs.StringVar(&typ, "type", "", "only entries of this type (required for hma, which holds one type per file)")
	c.fs.StringVar(&out, "o", "", "write to this file instead of standard output")
	return func(ctx context.Context) error {
		if err := c.wantArgs(0, 0, "export takes flags only"); err != nil {
			return err
		}
		b, err := c.bank(ctx, bankName)
		if err != nil {
			return err
		}
		f, err := banks.ParseFormat(format)
		if err != nil {
			return err
		}
		opts := banks.ExportOptions{Format: f}
		if typ != "" {
			if opts.Type, err = banks.ParseSignalType(typ); err != nil {
				return err
			}
		}
		w := c.stdout
		var file *os.File
		if out != "" {
			// Written beside the target and renamed, so that a failed
			// export never leaves half a file under the name asked for.
			if file, err = os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*"); err != nil {
				return err
			}
			defer os.Remove(file.Name())
			defer file.Close()
			w = file
		}
		rep, err := c.svc.Export(ctx, c.actor, b.ID, w, opts)
		if err != nil {
			return err
		}
		if file != nil {
			if err := file.Sync(); err != nil {
				return err
			}
			if err := file.Close(); err != nil {
				return err
			}
			if err := os.Rename(file.Name(), out); err != nil {
				return err
			}
		}
		fmt.Fprintf(c.stderr, "%s: exported %s of bank %s", c.name, plural(rep.Entries, "entry", "entries"), b.Name)
		if rep.Skipped > 0 {
			fmt.Fprintf(c.stderr, "; %s of other types left out (export them with -type)", plural(rep.Skipped, "entry", "entries"))
		}
		fmt.Fprintln(c.stderr)
		return nil
	}
}

func (c *banksCommand) add() func(context.Context) error {
	var bankName, typ, source, note string
	c.fs.StringVar(&bankName, "bank", "", "the bank to add to")
	c.fs.StringVar(&typ, "type", "", "pdq, md5, sha256, url or domain")
	c.fs.StringVar(&source, "source", "", "where the entries come from")
	c.fs.StringVar(&note, "note", "", "a note kept with each entry")
	return func(ctx context.Context) error {
		if err := c.wantArgs(1, -1, "name at least one VALUE to add"); err != nil {
			return err
		}
		b, err := c.bank(ctx, bankName)
		if err != nil {
			return err
		}
		t, err := banks.ParseSignalType(typ)
		if err != nil {
			return err
		}
		for _, v := range c.args {
			e, added, err := c.svc.AddEntry(ctx, c.actor, b.ID, banks.Entry{Type: t, Value: v, Source: source, Note: note})
			if err != nil {
				return err
			}
			if added {
				fmt.Fprintf(c.stdout, "added %s %s (entry %d)\n", e.Type, e.Value, e.ID)
			} else {
				fmt.Fprintf(c.stdout, "bank %s already holds %s %s (entry %d)\n", b.Name, e.Type, e.Value, e.ID)
			}
		}
		return nil
	}
}

func (c *banksCommand) remove() func(context.Context) error {
	var bankName, typ, reason string
	c.fs.StringVar(&bankName, "bank", "", "the bank to remove from")
	c.fs.StringVar(&typ, "type", "", "pdq, md5, sha256, url or domain")
	c.fs.StringVar(&reason, "reason", "", "why, for the audit log")
	return func(ctx context.Context) error {
		if err := c.wantArgs(1, -1, "name at least one VALUE to remove"); err != nil {
			return err
		}
		b, err := c.bank(ctx, bankName)
		if err != nil {
			return err
		}
		t, err := banks.ParseSignalType(typ)
		if err != nil {
			return err
		}
		for _, v := range c.args {
			e, err := c.svc.RemoveEntryByValue(ctx, c.actor, b.ID, t, v, reason)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "removed %s %s (entry %d)\n", e.Type, e.Value, e.ID)
		}
		return nil
	}
}

// progressPrinter shows an import's progress on standard error: a bar
// redrawn in place when it is a terminal, a plain line every few seconds
// otherwise (a log file or a CI job should not fill up with redraws).
type progressPrinter struct {
	w     io.Writer
	name  string
	tty   bool
	size  int64 // bytes to read; 0 when unknown (standard input)
	now   func() time.Time
	every time.Duration
	last  time.Time
	shown bool // a bar is on the current line
	phase string
}

func newProgressPrinter(w io.Writer, name string, size int64) *progressPrinter {
	p := &progressPrinter{w: w, name: name, size: size, now: time.Now, every: 5 * time.Second}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty, p.every = true, 100*time.Millisecond
		}
	}
	return p
}

// update is the import's Progress callback.
func (p *progressPrinter) update(pr banks.Progress) {
	now := p.now()
	newPhase := pr.Phase != p.phase
	if !pr.Done && !newPhase && now.Sub(p.last) < p.every {
		return
	}
	if newPhase && p.phase != "" && p.tty && p.shown {
		fmt.Fprintln(p.w) // keep the finished phase's bar
		p.shown = false
	}
	p.phase, p.last = pr.Phase, now
	if !p.tty && newPhase && !pr.Done && pr.Bytes == 0 && pr.Entries == 0 {
		return // nothing to say yet
	}
	line := p.describe(pr)
	if p.tty {
		fmt.Fprintf(p.w, "\r\x1b[K%s", line)
		p.shown = true
		return
	}
	fmt.Fprintf(p.w, "%s: %s\n", p.name, line)
}

// describe is one progress report: a bar when the total is known.
func (p *progressPrinter) describe(pr banks.Progress) string {
	var done, total int64
	var counts string
	if pr.Phase == banks.PhaseWriting {
		done, total = pr.Entries, pr.Total
		counts = fmt.Sprintf("%s of %s entries", thousands(pr.Entries), thousands(pr.Total))
	} else {
		done, total = pr.Bytes, p.size
		counts = fmt.Sprintf("%s lines, %s", thousands(pr.Lines), mib(pr.Bytes))
		if p.size > 0 {
			counts += " of " + mib(p.size)
		}
	}
	if total <= 0 {
		return fmt.Sprintf("%-8s %s", pr.Phase, counts)
	}
	frac := min(float64(done)/float64(total), 1)
	const width = 30
	filled := int(frac * width)
	bar := strings.Repeat("#", filled) + strings.Repeat(".", width-filled)
	return fmt.Sprintf("%-8s [%s] %3.0f%%  %s", pr.Phase, bar, frac*100, counts)
}

// println prints a line (a bad line's report) without mixing it into the
// bar, which is redrawn at the next update.
func (p *progressPrinter) println(s string) {
	if p.tty && p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
	fmt.Fprintf(p.w, "%s: %s\n", p.name, s)
}

// finish ends the bar's line.
func (p *progressPrinter) finish() {
	if p.tty && p.shown {
		fmt.Fprintln(p.w)
		p.shown = false
	}
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return thousands(n) + " " + many
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// thousands writes n with commas between groups of three digits.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
