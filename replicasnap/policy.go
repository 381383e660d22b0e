package replicasnap

import (
	"context"
	"fmt"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/postgis"
)

// Policy says when a server stores a new snapshot over the stored one.
// Encoding a province's replica costs a server seconds of CPU while it
// answers, so it writes only when the stored snapshot is missing or would
// cost the next start too much: too many changes to replay, a layer
// reloaded since (a start reads that layer's rows again), or too old.
// The age bounds how long the stored snapshot keeps records deleted
// since. Zero values take the defaults.
type Policy struct {
	// Behind is how many changes the feed may hold after the stored
	// snapshot before a new one is due (default 50,000: a quarter of
	// what a start replays at most, Options.MaxReplay).
	Behind int64
	// MaxAge is how old the stored snapshot may grow, while changes come
	// after it, before a new one is due (default 24 hours).
	MaxAge time.Duration
}

func (p Policy) withDefaults() Policy {
	if p.Behind <= 0 {
		p.Behind = 50_000
	}
	if p.MaxAge <= 0 {
		p.MaxAge = 24 * time.Hour
	}
	return p
}

// Due says whether a snapshot at sequence number head is to be written
// over the stored one (stored false: none of this format and schema is
// stored), as of now, and why.
func (p Policy) Due(st postgis.StoredSnapshot, stored bool, head int64, now time.Time) (bool, string) {
	p = p.withDefaults()
	switch {
	case !stored:
		return true, "none is stored"
	case st.Ahead:
		return true, fmt.Sprintf("the stored one is at change %d, ahead of the feed (a restored database)", st.Seq)
	case st.Seq >= head:
		return false, fmt.Sprintf("the stored one is at change %d, this replica at %d", st.Seq, head)
	case st.Reloads > 0:
		return true, fmt.Sprintf("%d layer reloads after the stored one", st.Reloads)
	case st.After >= p.Behind:
		return true, fmt.Sprintf("%d changes or more after the stored one", st.After)
	case now.Sub(st.WrittenAt) >= p.MaxAge:
		return true, fmt.Sprintf("the stored one was written %s ago", now.Sub(st.WrittenAt).Round(time.Second))
	}
	return false, fmt.Sprintf("the stored one is %d changes behind, written %s ago", st.After, now.Sub(st.WrittenAt).Round(time.Second))
}

// Standing is the part of Store that says how the stored snapshot stands
// (postgis.DB).
type Standing interface {
	StoredReplicaSnapshotStanding(ctx context.Context, format int, schema string, limit int64) (postgis.StoredSnapshot, bool, error)
}

// WriteIfDue stores the records of snap as the snapshot if p says one is
// due as of now (Policy.Due), as Write does; it reports whether it wrote
// and why it did or did not.
func WriteIfDue(ctx context.Context, store interface {
	Store
	Standing
}, catalog *onemap.Catalog, snap *inmem.Snapshot, p Policy, now time.Time) (bool, string, error) {
	p = p.withDefaults()
	schema, err := store.ReplicaSnapshotSchema(ctx)
	if err != nil {
		return false, "", err
	}
	st, stored, err := store.StoredReplicaSnapshotStanding(ctx, Format, schema, p.Behind)
	if err != nil {
		return false, "", err
	}
	due, why := p.Due(st, stored, snap.Seq(), now)
	if !due {
		return false, why, nil
	}
	wrote, err := Write(ctx, store, catalog, snap)
	if err == nil && !wrote {
		why += "; another server wrote one meanwhile"
	}
	return wrote, why, err
}
