package checkpoint

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// File is the file of checkpoints: JSON lines, oldest first, only ever
// appended to. Several servers may append to one file (each line is one
// write of an O_APPEND file); Latest reads the last line.
type File struct {
	Path string
}

// Append adds c as the file's last line and syncs it to disk.
func (f File) Append(c Checkpoint) error {
	line, err := json.Marshal(c)
	if err != nil {
		return err
	}
	fh, err := os.OpenFile(f.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if _, err := fh.Write(append(line, '\n')); err != nil {
		fh.Close()
		return fmt.Errorf("checkpoint: write %s: %w", f.Path, err)
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return fmt.Errorf("checkpoint: sync %s: %w", f.Path, err)
	}
	return fh.Close()
}

// ErrNone is Latest's error when the file is missing or holds no
// checkpoint yet.
var ErrNone = errors.New("no checkpoint written yet")

// tailBytes is how much of the file's end Latest reads: far more than a
// line.
const tailBytes = 64 << 10

// Latest returns the file's last checkpoint, reading only the file's end.
// A last line cut short (a write that a crash interrupted) is skipped for
// the one before it.
func (f File) Latest() (Checkpoint, error) {
	fh, err := os.Open(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return Checkpoint{}, fmt.Errorf("%s: %w", f.Path, ErrNone)
	}
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint: %w", err)
	}
	off := max(st.Size()-tailBytes, 0)
	buf := make([]byte, st.Size()-off)
	if _, err := fh.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return Checkpoint{}, fmt.Errorf("checkpoint: read %s: %w", f.Path, err)
	}
	lines := bytes.Split(bytes.TrimRight(buf, "\n"), []byte("\n"))
	var firstErr error
	for i := len(lines) - 1; i >= 0; i-- {
		if off > 0 && i == 0 {
			break // may be the end of a line that starts before what was read
		}
		line := bytes.TrimSpace(lines[i])
		if len(line) == 0 {
			continue
		}
		var c Checkpoint
		err := json.Unmarshal(line, &c)
		if err == nil {
			return c, nil
		}
		if firstErr != nil || i != len(lines)-1 {
			// Only the very last line may be torn; an unreadable line
			// before it is damage.
			return Checkpoint{}, fmt.Errorf("checkpoint: %s: a line is not a checkpoint: %v", f.Path, err)
		}
		firstErr = err
	}
	if firstErr != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint: %s: the last line is not a checkpoint: %v", f.Path, firstErr)
	}
	return Checkpoint{}, fmt.Errorf("%s: %w", f.Path, ErrNone)
}

// AtOrBefore returns the newest checkpoint of a record at or before seq,
// reading the whole file; ok is false when there is none (the file begins
// after it, or is missing).
func (f File) AtOrBefore(seq int64) (c Checkpoint, ok bool, err error) {
	err = f.each(func(x Checkpoint) {
		if x.Seq <= seq && (!ok || x.Seq >= c.Seq) {
			c, ok = x, true
		}
	})
	return c, ok, err
}

// each calls fn with every checkpoint of the file, in the order written;
// lines that are not checkpoints (a torn last line) are skipped: Latest
// reports damage. A missing file has none.
func (f File) each(fn func(Checkpoint)) error {
	fh, err := os.Open(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var x Checkpoint
		if json.Unmarshal(line, &x) == nil {
			fn(x)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("checkpoint: read %s: %w", f.Path, err)
	}
	return nil
}

// All returns every checkpoint of the file, in the order written, skipping
// lines that are not checkpoints.
func (f File) All() ([]Checkpoint, error) {
	var all []Checkpoint
	err := f.each(func(c Checkpoint) { all = append(all, c) })
	return all, err
}
