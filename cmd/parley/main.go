// Command parley is the Parley messaging server: one binary that serves the
// API and web client, seeds a demo world, migrates the database and more.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"parley/internal/app"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `Parley: a messaging server with trust & safety built in.

Usage:
  parley <command> [flags]

Commands:
  serve     run the server
  demo      run the server with a demo world: accounts for each role (passwords
            printed at start), channels with posts and images, groups, direct chats
  migrate   create or upgrade the database schema, then exit
  audit     'audit verify' checks the audit log's hash chain and names the first broken link
  banks     manage hash banks: list, create, enable, disable, import, export, add, remove
  hash      print the PDQ perceptual hash of image files (for hash-list curators)
  sor       'sor export' writes (or submits) statements of reasons for the EU Transparency Database
  version   print the version

Run 'parley <command> -h' for the flags of a command. Every flag can also be
set with the PARLEY_* environment variable named in its help.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "parley:", err)
		}
		os.Exit(2)
	}
}

// run executes one command; ctx ends on SIGINT or SIGTERM.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("name a command")
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, args, stdout, stderr, false)
	case "demo":
		return serve(ctx, args, stdout, stderr, true)
	case "migrate":
		return migrate(ctx, args, stderr)
	case "audit":
		return runAudit(ctx, args, stdout, stderr)
	case "banks":
		return runBanks(ctx, args, os.Stdin, stdout, stderr)
	case "sor":
		return runSOR(ctx, args, stdout, stderr)
	case "hash":
		return runHash(args, os.Stdin, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "parley", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

func parseConfig(name string, args []string, stderr io.Writer, cfg *app.Config) error {
	fs := flag.NewFlagSet("parley "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.Flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return cfg.Validate()
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer, demo bool) error {
	cfg := app.DefaultConfig()
	name := "serve"
	if demo {
		name = "demo"
		cfg.DataDir = "parley-demo-data"
		cfg.CampaignMinMembers = 0 // the demo's groups are small, and its spam campaign is there to be found
	}
	if err := parseConfig(name, args, stderr, &cfg); err != nil {
		return err
	}
	var demoCountry string
	if demo && cfg.CountryHeader == "" && cfg.CountryRanges == "" {
		// The demo withholds a post in France on an order. So that the
		// withholding shows, the demo places the browsers on this machine
		// in France, as an operator's address ranges file would.
		var err error
		if cfg.CountryRanges, demoCountry, err = app.WriteDemoCountryRanges(cfg.DataDir); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	log := cfg.NewLogger()
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Start(); err != nil {
		return err
	}
	if demo {
		accounts, err := app.SeedDemo(ctx, a)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		fmt.Fprintf(stdout, "\nParley demo is running at %s\n\nSign in with any of these accounts (passwords are new at every start):\n", a.URL())
		for _, acc := range accounts {
			fmt.Fprintf(stdout, "  %-14s %-10s password %s\n", acc.Role, acc.Username, acc.Password)
		}
		if demoCountry != "" {
			fmt.Fprintf(stdout, "\nBrowsers on this machine are placed in %s by %s (what -country-ranges does for\nreal addresses), so the post withheld there shows its notice.\n", demoCountry, cfg.CountryRanges)
		}
		if m := a.MetricsURL(); m != "" {
			fmt.Fprintf(stdout, "\nMetrics (Prometheus) are at %s\n", m)
		}
		fmt.Fprintf(stdout, "\nData is kept in %s. Press Ctrl-C to stop.\n\n", cfg.DataDir)
	}
	<-ctx.Done()
	log.Info("shutting down")
	return a.Close()
}

func migrate(ctx context.Context, args []string, stderr io.Writer) error {
	cfg := app.DefaultConfig()
	if err := parseConfig("migrate", args, stderr, &cfg); err != nil {
		return err
	}
	v, err := app.Migrate(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "database at schema version %d\n", v)
	return nil
}
