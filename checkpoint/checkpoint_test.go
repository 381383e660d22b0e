package checkpoint

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeTrail is a trail whose head the test moves.
type fakeTrail struct {
	mu     sync.Mutex
	head   Point
	points map[int64]Point
}

func (f *fakeTrail) AuditChain(ctx context.Context, from int64, marks ...int64) (Chain, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := Chain{Intact: true, Head: f.head, Rows: f.head.Seq, FirstSeq: 1, LastSeq: f.head.Seq, Marks: map[int64]Point{}}
	for _, m := range marks {
		if p, ok := f.points[m]; ok {
			c.Marks[m] = p
		}
	}
	return c, nil
}

func (f *fakeTrail) set(seq int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.head = Point{Seq: seq, At: time.Unix(seq, 0), Hash: []byte{byte(seq)}}
	if f.points == nil {
		f.points = map[int64]Point{}
	}
	f.points[seq] = f.head
}

// TestRun_interval: Run signs a checkpoint at start, at each tick of its
// ticker (injected) and at the end; the file's latest is the head.
func TestRun_interval(t *testing.T) {
	dir := t.TempDir()
	k, err := GenerateKey(filepath.Join(dir, "k"))
	if err != nil {
		t.Fatal(err)
	}
	trail := &fakeTrail{}
	trail.set(1)
	ticks := make(chan time.Time)
	now := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	a := &Anchor{Key: k, File: File{Path: filepath.Join(dir, "cp.jsonl")}, Trail: trail, Now: func() time.Time { return now }, Ticks: ticks}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	ticks <- now // received after the start's checkpoint is written
	trail.set(2)
	ticks <- now
	ticks <- now
	trail.set(3)
	stop()
	<-done
	b, _ := os.ReadFile(a.File.Path)
	if n := strings.Count(string(b), "\n"); n != 5 {
		t.Errorf("%d checkpoints, want 5 (start, three ticks, end):\n%s", n, b)
	}
	cp, err := a.File.Latest()
	if err != nil || cp.Seq != 3 || k.Verify(cp) != nil {
		t.Errorf("Latest = %+v, %v; want a signed checkpoint of record 3", cp, err)
	}
}

// TestLatest_tornLine: a last line cut short by a crash is skipped; damage
// before it is an error.
func TestLatest_tornLine(t *testing.T) {
	dir := t.TempDir()
	k, err := GenerateKey(filepath.Join(dir, "k"))
	if err != nil {
		t.Fatal(err)
	}
	f := File{Path: filepath.Join(dir, "cp.jsonl")}
	if _, err := f.Latest(); err == nil || !strings.Contains(err.Error(), ErrNone.Error()) {
		t.Errorf("a missing file: %v", err)
	}
	for seq := range int64(3) {
		cp, _ := k.Sign(Point{Seq: seq + 1, At: time.Unix(seq, 0), Hash: []byte{1}}, time.Now())
		if err := f.Append(cp); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(f.Path)
	os.WriteFile(f.Path, append(b, `{"seq":4,"ha`...), 0o644)
	if cp, err := f.Latest(); err != nil || cp.Seq != 3 {
		t.Errorf("with a torn last line: %+v, %v; want record 3", cp, err)
	}
	os.WriteFile(f.Path, append(append(b, "garbage\n"...), b...), 0o644)
	if cp, err := f.Latest(); err != nil || cp.Seq != 3 {
		t.Errorf("garbage before good lines: %+v, %v", cp, err)
	}
	os.WriteFile(f.Path, append(b, "garbage\n{\"seq\":4,"...), 0o644)
	if _, err := f.Latest(); err == nil {
		t.Error("garbage before a torn last line was not reported")
	}
	if floor, ok, err := f.AtOrBefore(2); err != nil || !ok || floor.Seq != 2 {
		t.Errorf("AtOrBefore(2) = %+v, %v, %v", floor, ok, err)
	}
}

// TestCheck_emptyTrail: a checkpoint of an empty trail (its head is the
// anchor, never pruned or pruned lawfully) agrees with it; records cut
// after it do not.
func TestCheck_emptyTrail(t *testing.T) {
	k, err := GenerateKey(filepath.Join(t.TempDir(), "k"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	zero := Point{Hash: make([]byte, 32)}
	cp, _ := k.Sign(zero, now)
	if err := Check(k, cp, Chain{Intact: true, Head: zero, Anchor: zero}, now); err != nil {
		t.Errorf("a checkpoint of a new, empty trail: %v", err)
	}
	pruned := Point{Seq: 40, Hash: []byte{4}}
	cp, _ = k.Sign(pruned, now)
	if err := Check(k, cp, Chain{Intact: true, Head: pruned, Anchor: pruned, PrunedAt: now.Add(-time.Hour)}, now); err != nil {
		t.Errorf("a checkpoint of a trail emptied by retention: %v", err)
	}
	live := Point{Seq: 41, At: now.Add(-time.Minute), Hash: []byte{5}}
	cp, _ = k.Sign(live, now)
	err = Check(k, cp, Chain{Intact: true, Head: live, Anchor: live, PrunedAt: now}, now)
	if err == nil || !strings.Contains(err.Error(), "not by retention") {
		t.Errorf("a record of a minute ago under a moved anchor: %v", err)
	}
}
