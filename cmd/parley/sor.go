package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"parley/internal/app"
	"parley/internal/safety/enforce"
	"parley/internal/sor"
	"parley/internal/store/sqlite"
)

const sorUsage = `usage: parley sor export -since YYYY-MM-DD [-until YYYY-MM-DD] [-submit -endpoint URL -token TOKEN] [-data-dir DIR]

Writes the statements of reasons of the enforcement actions taken from
-since to -until (whole days, UTC; -until defaults to today) in the format of
the EU Transparency Database's API: one line per batch of at most 100, each
line the body of POST /api/v1/statements, {"statements": [...]}. Statements
carry no personal data; their puids are stable, so exporting a range again
gives the same statements.

With -submit they are sent to the database (-endpoint, PARLEY_TDB_ENDPOINT;
-token, PARLEY_TDB_TOKEN) instead, and what became of each is printed:
accepted, already there, rejected (with the database's reasons) or unsent
(to send again). The exit status is non-zero if any was rejected or left
unsent.
`

// runSOR implements 'parley sor export'.
func runSOR(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "export" {
		fmt.Fprint(stderr, sorUsage)
		return errors.New("sor: name a subcommand (export)")
	}
	cfg := app.DefaultConfig()
	fs := flag.NewFlagSet("parley sor export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, sorUsage, "\nFlags:\n"); fs.PrintDefaults() }
	cfg.Flags(fs)
	since := fs.String("since", "", "first day of the range, YYYY-MM-DD (UTC)")
	until := fs.String("until", "", "last day of the range, YYYY-MM-DD (UTC); default today")
	submit := fs.Bool("submit", false, "send the statements to the Transparency Database instead of printing them")
	endpoint := fs.String("endpoint", os.Getenv("PARLEY_TDB_ENDPOINT"), "the database's base URL, e.g. "+sor.ProductionEndpoint+" (PARLEY_TDB_ENDPOINT)")
	token := fs.String("token", os.Getenv("PARLEY_TDB_TOKEN"), "the platform's API token (PARLEY_TDB_TOKEN)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("sor export: unexpected argument %q", fs.Arg(0))
	}
	from, err := parseDay("-since", *since)
	if err != nil {
		return err
	}
	if from.IsZero() {
		return errors.New("sor export: -since is required (YYYY-MM-DD)")
	}
	to, err := parseDay("-until", *until)
	if err != nil {
		return err
	}
	if to.IsZero() {
		to = time.Now().UTC().Truncate(24 * time.Hour)
	}
	if to.Before(from) {
		return errors.New("sor export: -until is before -since")
	}
	if *submit && (*endpoint == "" || *token == "") {
		return errors.New("sor export: -submit needs -endpoint and -token (or PARLEY_TDB_ENDPOINT and PARLEY_TDB_TOKEN)")
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	db, err := sqlite.Open(ctx, cfg.DatabasePath())
	if err != nil {
		return err
	}
	defer db.Close()
	svc := &enforce.Service{Store: db}
	r := enforce.StatementRange{Since: from, Until: to.AddDate(0, 0, 1), Limit: sor.MaxBatchSize}
	var all []sor.Statement
	enc := json.NewEncoder(stdout)
	for {
		batch, last, err := svc.Statements(ctx, r)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			break
		}
		if *submit {
			all = append(all, batch...)
		} else if err := enc.Encode(map[string]any{"statements": batch}); err != nil {
			return err
		}
		r.AfterID = last
	}
	if !*submit {
		return nil
	}
	client := &sor.Client{Endpoint: *endpoint, Token: *token}
	rep, err := client.Submit(ctx, all)
	if rep != nil {
		fmt.Fprintf(stdout, "%d statements: %d accepted, %d already there, %d rejected, %d unsent\n",
			len(all), len(rep.Accepted()), len(rep.Existing()), len(rep.Rejected()), len(rep.Unsent()))
		for _, rj := range rep.Rejected() {
			fmt.Fprintf(stdout, "rejected %s:", rj.PUID)
			for field, problems := range rj.Problems {
				fmt.Fprintf(stdout, " %s: %s;", field, strings.Join(problems, ", "))
			}
			fmt.Fprintln(stdout)
		}
	}
	if err != nil {
		return fmt.Errorf("sor export: submission stopped: %w", err)
	}
	if len(rep.Rejected())+len(rep.Unsent()) > 0 {
		return errors.New("sor export: some statements were not stored; see above")
	}
	return nil
}

func parseDay(flagName, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	d, err := time.Parse("2006-01-02", v)
	if err != nil {
		return time.Time{}, fmt.Errorf("sor export: %s %q is not a date as YYYY-MM-DD", flagName, v)
	}
	return d, nil
}
