package onemap

import "time"

// PoolStat is the state of the connection pool, for metrics: a
// database store reports it, the server's /metrics shows it.
type PoolStat struct {
	MaxConns, TotalConns, IdleConns, AcquiredConns, ConstructingConns int32
	// Cumulative since the pool opened.
	AcquireCount, EmptyAcquireCount, CanceledAcquireCount       int64
	NewConnsCount, MaxLifetimeDestroyCount, MaxIdleDestroyCount int64
	AcquireDuration                                             time.Duration
}
