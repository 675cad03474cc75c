package main

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"parley/internal/pdq"
)

const hashTestdata = "../../testdata/pdq"

func runHashT(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errw bytes.Buffer
	err = runHash(args, strings.NewReader(stdin), &out, &errw)
	return out.String(), errw.String(), err
}

// expectedCSV reads the reference hashes.
func expectedCSV(t *testing.T) map[string]pdq.Hash {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(hashTestdata, "expected.csv"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]pdq.Hash{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n")[1:] {
		f := strings.Split(line, ",")
		h, err := pdq.ParseHash(f[1])
		if err != nil {
			t.Fatal(err)
		}
		m[f[0]] = h
	}
	return m
}

func TestHashCommand(t *testing.T) {
	ref := expectedCSV(t)
	names := []string{"bridge-1-original.jpg", "q1050.jpg", "small.jpg", "wee.jpg"}
	var paths []string
	for _, n := range names {
		paths = append(paths, filepath.Join(hashTestdata, n))
	}
	out, errOut, err := runHashT(t, "", paths...)
	if err != nil || errOut != "" {
		t.Fatalf("err %v, stderr %q", err, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(paths) {
		t.Fatalf("%d lines for %d files:\n%s", len(lines), len(paths), out)
	}
	for i, line := range lines {
		// <pdq-hex>,<quality>,<path>, in input order.
		f := strings.SplitN(line, ",", 3)
		if len(f) != 3 || f[2] != paths[i] {
			t.Fatalf("line %q", line)
		}
		h, err := pdq.ParseHash(f[0])
		if err != nil {
			t.Fatal(err)
		}
		q, err := strconv.Atoi(f[1])
		if err != nil || q < 0 || q > 100 {
			t.Fatalf("quality in %q", line)
		}
		if d := pdq.Distance(h, ref[names[i]]); d > 10 {
			t.Errorf("%s: distance %d to the reference", names[i], d)
		}
		want, wq, _ := pdq.HashFile(paths[i])
		if h != want || q != wq {
			t.Errorf("%s: command %s,%d; package %s,%d", names[i], h, q, want, wq)
		}
	}
}

func TestHashCommandColumns(t *testing.T) {
	path := filepath.Join(hashTestdata, "q0291.jpg")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := md5.Sum(data)
	s := sha256.Sum256(data)
	md5hex, shahex := hex.EncodeToString(m[:]), hex.EncodeToString(s[:])
	h, q, _ := pdq.HashFile(path)
	img, _, _ := pdq.Decode(data, pdq.DefaultLimits)
	dih := pdq.Dihedral(img)
	var dihs []string
	for _, d := range dih {
		dihs = append(dihs, d.String())
	}
	qs := strconv.Itoa(q)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--md5"}, []string{h.String(), qs, md5hex, path}},
		{[]string{"--sha256"}, []string{h.String(), qs, shahex, path}},
		// Flag order on the command line does not matter; columns do not move.
		{[]string{"--sha256", "--md5"}, []string{h.String(), qs, md5hex, shahex, path}},
		{[]string{"--dihedral"}, append(append([]string{}, dihs...), qs, path)},
		{[]string{"--dihedral", "--md5", "--sha256"}, append(append([]string{}, dihs...), qs, md5hex, shahex, path)},
	} {
		out, errOut, err := runHashT(t, "", append(tc.args, path)...)
		if err != nil || errOut != "" {
			t.Fatalf("%v: %v %q", tc.args, err, errOut)
		}
		if want := strings.Join(tc.want, ",") + "\n"; out != want {
			t.Errorf("%v:\n got %q\nwant %q", tc.args, out, want)
		}
	}
	// Flags may also follow the files.
	out, _, err := runHashT(t, "", path, "--md5")
	if err != nil || !strings.Contains(out, md5hex) {
		t.Errorf("flag after file: %q %v", out, err)
	}
}

// TestHashCommandStdin: "-" reads names from standard input, one per line,
// in order, mixed with names on the command line.
func TestHashCommandStdin(t *testing.T) {
	a := filepath.Join(hashTestdata, "wee.jpg")
	b := filepath.Join(hashTestdata, "q0122.jpg")
	c := filepath.Join(hashTestdata, "small.jpg")
	out, errOut, err := runHashT(t, b+"\r\n\n"+c+"\n", a, "-")
	if err != nil || errOut != "" {
		t.Fatalf("%v %q", err, errOut)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		got = append(got, line[strings.LastIndex(line, ",")+1:])
	}
	if strings.Join(got, " ") != strings.Join([]string{a, b, c}, " ") {
		t.Errorf("files in order %v", got)
	}
}

// TestHashCommandErrors: each bad file gets a clear line on stderr, the good
// ones are still hashed, and the command fails.
func TestHashCommandErrors(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.jpg")
	good, _ := os.ReadFile(filepath.Join(hashTestdata, "q1050.jpg"))
	os.WriteFile(corrupt, good[:len(good)/3], 0o644)
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("not an image"), 0o644)
	missing := filepath.Join(dir, "missing.png")
	ok := filepath.Join(hashTestdata, "wee.jpg")

	out, errOut, err := runHashT(t, "", corrupt, ok, text, missing)
	if err == nil || !strings.Contains(err.Error(), "3 of 4 files") {
		t.Fatalf("err = %v", err)
	}
	if n := strings.Count(out, "\n"); n != 1 || !strings.HasSuffix(out, ","+ok+"\n") {
		t.Errorf("stdout %q", out)
	}
	for _, want := range []string{
		corrupt + ": corrupt image: jpeg",
		text + ": unsupported image format",
		missing + ": open " + missing + ": no such file or directory",
	} {
		if !strings.Contains(errOut, "parley hash: "+want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if n := strings.Count(errOut, "\n"); n != 3 {
		t.Errorf("%d error lines:\n%s", n, errOut)
	}
}

func TestHashCommandUsage(t *testing.T) {
	out, _, err := runHashT(t, "", "--help")
	if err != nil || !strings.Contains(out, "<pdq-hex>[,<7 more hashes>],<quality>[,<md5>][,<sha256>],<path>") {
		t.Errorf("help: %v\n%s", err, out)
	}
	if _, errOut, err := runHashT(t, ""); err == nil || !strings.Contains(errOut, "Usage: parley hash") {
		t.Errorf("no files: %v", err)
	}
	if _, _, err := runHashT(t, "", "--bogus", "x.jpg"); err == nil || !strings.Contains(err.Error(), `unknown option "--bogus"`) {
		t.Errorf("unknown flag: %v", err)
	}
	// "--" ends the options: a file may be called --md5.
	if _, errOut, err := runHashT(t, "", "--", "--md5"); err == nil || !strings.Contains(errOut, "parley hash: --md5: open --md5") {
		t.Errorf("after --: %v %q", err, errOut)
	}
}
