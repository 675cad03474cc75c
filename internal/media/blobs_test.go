package media

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"parley"
)

// storedFiles returns every file under dir, temporary or not.
func storedFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestBlobsPutOpen(t *testing.T) {
	dir := t.TempDir()
	blobs, err := NewBlobs(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("the bytes of an image")
	id, err := blobs.Put(data)
	if err != nil {
		t.Fatal(err)
	}
	if !validID(id) || id == hashHex(data) {
		t.Fatalf("id = %s, want 64 random hex digits, not the SHA-256 of the data", id)
	}
	want := filepath.Join(dir, id[0:2], id[2:4], id)
	if path, err := blobs.Path(id); err != nil || path != want {
		t.Errorf("Path = %q, %v; want %q", path, err, want)
	}
	if !blobs.Has(id) {
		t.Error("Has = false after Put")
	}
	f, err := blobs.Open(id)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("read %q, want %q", got, data)
	}
}

// TestBlobsSameBytesStoredApart: each Put of the same bytes, some at the
// same moment, is its own file under its own name, so that removing one
// leaves the others.
func TestBlobsSameBytesStoredApart(t *testing.T) {
	dir := t.TempDir()
	blobs, err := NewBlobs(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := encodePNG(t, gradient(10, 10))
	var wg sync.WaitGroup
	ids := make([]string, 16)
	for i := range ids {
		wg.Go(func() {
			id, err := blobs.Put(bytes.Clone(data))
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	var want []string
	for _, id := range ids {
		path, err := blobs.Path(id)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, path)
	}
	slices.Sort(want)
	if files := storedFiles(t, dir); !slices.Equal(files, slices.Compact(slices.Clone(want))) || len(files) != len(ids) {
		t.Fatalf("stored files = %v, want the %d blobs %v and no temporary files", files, len(ids), want)
	}
	if err := blobs.Remove(ids[0]); err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if blobs.Has(id) != (i != 0) {
			t.Fatalf("after removing %s, Has(%s) = %v", ids[0], id, blobs.Has(id))
		}
	}
	f, err := blobs.Open(ids[1])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, err := io.ReadAll(f); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("another copy reads %d bytes, %v; want the %d stored", len(got), err, len(data))
	}
}

func TestBlobsOpenMissing(t *testing.T) {
	blobs, err := NewBlobs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	id := hashHex([]byte("never stored"))
	if _, err := blobs.Open(id); parley.ErrorCode(err) != parley.ENotFound {
		t.Errorf("Open of a missing blob: %v, want %s", err, parley.ENotFound)
	}
	if blobs.Has(id) {
		t.Error("Has = true for a missing blob")
	}
}

func TestBlobsRefuseInvalidIDs(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "blobs")
	blobs, err := NewBlobs(dir)
	if err != nil {
		t.Fatal(err)
	}
	// A file outside the store that an escaping id could reach.
	secret := filepath.Join(root, "secret")
	if err := os.WriteFile(secret, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	valid := hashHex([]byte("x"))
	ids := []string{
		"",
		"../secret",
		"../../secret",
		"/etc/passwd",
		strings.Repeat("../", 21) + "x", // 64 characters
		"ab/../../" + valid[9:],         // 64 characters
		strings.ToUpper(valid),          // one blob, one name
		valid[:63],                      // too short
		valid + "0",                     // too long
		valid[:63] + "g",                // not hex
		valid[:62] + "\x00a",            // a NUL byte
		strings.Repeat(".", 64),         // dots only
		"..\\" + valid[3:],              // a Windows separator
		valid[:32] + "/" + valid[33:],   // a slash in the middle
		"\u00e9" + valid[2:],            // a two-byte rune making 64 bytes
	}
	for _, id := range ids {
		if len(id) == 64 && validID(id) {
			t.Fatalf("test id %q is valid", id)
		}
		if _, err := blobs.Open(id); parley.ErrorCode(err) != parley.EInvalid {
			t.Errorf("Open(%q): %v, want %s", id, err, parley.EInvalid)
		}
		if _, err := blobs.Path(id); parley.ErrorCode(err) != parley.EInvalid {
			t.Errorf("Path(%q): %v, want %s", id, err, parley.EInvalid)
		}
		if blobs.Has(id) {
			t.Errorf("Has(%q) = true", id)
		}
	}
}
