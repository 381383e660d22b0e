package postgis

import (
	"context"
	"fmt"

	"github.com/onemapgis/onemap"
)

// LatestSeq returns the sequence number of the newest change in the feed (0
// when there is none): how far a replica that is current would be.
func (db *DB) LatestSeq(ctx context.Context) (int64, error) {
	var seq int64
	if err := db.pool.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM change_feed`).Scan(&seq); err != nil {
		return 0, mapError(fmt.Errorf("postgis: latest seq: %w", err))
	}
	return seq, nil
}

// PoolStat returns the state of the connection pool.
func (db *DB) PoolStat() onemap.PoolStat {
	s := db.pool.Stat()
	return onemap.PoolStat{
		MaxConns: s.MaxConns(), TotalConns: s.TotalConns(), IdleConns: s.IdleConns(),
		AcquiredConns: s.AcquiredConns(), ConstructingConns: s.ConstructingConns(),
		AcquireCount: s.AcquireCount(), EmptyAcquireCount: s.EmptyAcquireCount(), CanceledAcquireCount: s.CanceledAcquireCount(),
		NewConnsCount: s.NewConnsCount(), MaxLifetimeDestroyCount: s.MaxLifetimeDestroyCount(), MaxIdleDestroyCount: s.MaxIdleDestroyCount(),
		AcquireDuration: s.AcquireDuration(),
	}
}
