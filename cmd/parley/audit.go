package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"parley"
	"parley/internal/app"
	"parley/internal/audit"
	"parley/internal/store/sqlite"
)

// runAudit implements 'parley audit verify': it walks the audit log's whole
// hash chain, checks every checkpoint that earlier verifications recorded
// (the audit page verifies from the newest one on), names the first broken
// link, and records a checkpoint at the end when all of it holds. It exits
// non-zero when the chain is broken, so it can run from cron or a
// monitoring check.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(stderr, "usage: parley audit verify [-data-dir DIR | -database-url sqlite:PATH]")
		return errors.New("audit: name a subcommand (verify)")
	}
	cfg := app.DefaultConfig()
	fs := flag.NewFlagSet("parley audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.Flags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	db, err := sqlite.Open(ctx, cfg.DatabasePath())
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := (&audit.Log{Store: db, Clock: parley.SystemClock{}}).VerifyAll(ctx)
	if err != nil {
		return err
	}
	if !r.Intact {
		fmt.Fprintf(stdout, "audit log BROKEN at entry %d: %s (%d entries checked)\n", r.FirstBroken, r.Reason, r.Entries)
		return fmt.Errorf("audit: the chain is broken at entry %d", r.FirstBroken)
	}
	fmt.Fprintf(stdout, "audit log intact: %d entries\n", r.Entries)
	return nil
}
