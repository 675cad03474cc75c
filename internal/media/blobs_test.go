package media

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
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
	if id != hashHex(data) {
		t.Fatalf("id = %s, want the SHA-256 of the data", id)
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

func TestBlobsSameBytesStoredOnce(t *testing.T) {
	dir := t.TempDir()
	blobs, err := NewBlobs(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := encodePNG(t, gradient(10, 10))
	first, err := blobs.Put(data)
	if err != nil {
		t.Fatal(err)
	}
	path, _ := blobs.Path(first)
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}

	// Many uploads of the same image, some at the same moment.
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
	for _, id := range ids {
		if id != first {
			t.Errorf("id %s, want %s", id, first)
		}
	}
	if files := storedFiles(t, dir); len(files) != 1 || files[0] != path {
		t.Errorf("stored files = %v, want only %s", files, path)
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Error("the stored file was replaced; a second Put of the same bytes must be a no-op")
	}
}

func TestBlobsConcurrentFirstPut(t *testing.T) {
	dir := t.TempDir()
	blobs, err := NewBlobs(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("x"), 1<<16)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := blobs.Put(data); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if files := storedFiles(t, dir); len(files) != 1 {
		t.Errorf("stored files = %v, want one and no temporary files", files)
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
