package media

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"parley"
)

// Blobs stores immutable byte strings on local disk, each under a random id
// of 64 lower-case hex digits, in two levels of subdirectories
// (dir/ab/cd/abcd…) so that no directory grows to millions of entries.
//
// The name is random, not the hash of the content, so that a file says
// nothing about its bytes and each upload owns its files: the same image
// uploaded by two accounts is stored twice, and deleting one item's files
// (the evidence purge) can never take bytes another item still uses. Files
// written before names were random are named by the SHA-256 of their
// content; they are read and removed the same way.
type Blobs struct {
	dir string
}

// NewBlobs returns a store rooted at dir, creating dir if it does not exist.
func NewBlobs(dir string) (*Blobs, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("media: create blob directory: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("media: blob directory: %w", err)
	}
	return &Blobs{dir: abs}, nil
}

// newID returns a new random blob id: 32 bytes from the operating system's
// random source, in hex. crypto/rand.Read never fails on the systems Go
// supports (it crashes the program instead).
func newID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Put stores data under a new random id and returns the id.
//
// The write is atomic and durable: the bytes go to a temporary file in the
// final directory, which is synced and then renamed, and the directory is
// synced so the rename survives a crash. A reader therefore sees the whole
// blob or none of it, never a prefix. The id is new (a rename could replace
// an existing file only if two random ids were equal), so a blob never
// changes once written.
func (b *Blobs) Put(data []byte) (id string, err error) {
	id = newID()
	path, _ := b.Path(id) // a new id is always valid
	dir := filepath.Dir(path)
	if err := b.makeDirs(id); err != nil {
		return "", fmt.Errorf("media: create blob directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-"+id[:8]+"-*")
	if err != nil {
		return "", fmt.Errorf("media: create temporary blob: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return "", fmt.Errorf("media: write blob: %w", err)
	}
	// Blobs are served to other users; make them readable like any file the
	// server writes, rather than CreateTemp's owner-only default.
	if err = tmp.Chmod(0o644); err != nil {
		return "", fmt.Errorf("media: chmod blob: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		return "", fmt.Errorf("media: sync blob: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return "", fmt.Errorf("media: close blob: %w", err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("media: rename blob: %w", err)
	}
	if err = syncDir(dir); err != nil {
		return "", fmt.Errorf("media: sync blob directory: %w", err)
	}
	return id, nil
}

// Open opens the blob id for reading. It returns EInvalid if id is not 64
// lower-case hex digits and ENotFound if no such blob is stored.
func (b *Blobs) Open(id string) (*os.File, error) {
	path, err := b.Path(id)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, parley.Errorf(parley.ENotFound, "media not found")
	} else if err != nil {
		return nil, fmt.Errorf("media: open blob: %w", err)
	}
	return f, nil
}

// Remove deletes the blob id; a blob that is not there is no error. Only
// the evidence purge calls it: a blob is otherwise kept for as long as
// anything may refer to it.
func (b *Blobs) Remove(id string) error {
	path, err := b.Path(id)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("media: remove blob: %w", err)
	}
	return nil
}

// Has reports whether the blob id is stored. An invalid id is never stored.
func (b *Blobs) Has(id string) bool {
	path, err := b.Path(id)
	if err != nil {
		return false
	}
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// Path returns the file name of the blob id, whether or not it is stored. It
// returns EInvalid unless id is 64 lower-case hex digits: ids come from URLs,
// and this check is what keeps "../../etc/passwd" from leaving the store.
func (b *Blobs) Path(id string) (string, error) {
	if !validID(id) {
		return "", parley.Errorf(parley.EInvalid, "invalid media id")
	}
	return filepath.Join(b.dir, id[0:2], id[2:4], id), nil
}

// validID reports whether id is a blob id: exactly 64 characters from 0-9
// and a-f (a random id, or the SHA-256 of a blob written before ids were
// random). Upper case is refused so that one blob has one name.
func validID(id string) bool {
	if len(id) != 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// makeDirs creates the two directory levels that hold blob id. A directory
// it creates is made durable by syncing its parent, for the same reason the
// blob's own directory is synced after the rename.
func (b *Blobs) makeDirs(id string) error {
	parent := b.dir
	for _, name := range []string{id[0:2], id[2:4]} {
		dir := filepath.Join(parent, name)
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			if err := syncDir(parent); err != nil {
				return err
			}
		} else if !errors.Is(err, fs.ErrExist) {
			return err
		}
		parent = dir
	}
	return nil
}

// syncDir flushes a directory's entries, so that a file just renamed into it
// is still there after a power cut.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
