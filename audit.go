package onemap

import "time"

// AuditFilter selects audit records. Zero fields select everything.
type AuditFilter struct {
	After  int64 // records with seq above this (paging oldest first)
	Before int64 // records with seq below this (paging newest first); 0: no bound
	Newest bool  // newest first instead of the order they were written
	Actor  string
	Action string
	From   time.Time
	To     time.Time
	Limit  int // at most this many; 0 means 100
	// HideSystem leaves out the records of the system's own work (role
	// "system": the demo seed, imports by the command line, retention).
	HideSystem bool
}

// AuditCheck is the result of verifying the audit trail's hash chain.
type AuditCheck struct {
	OK       bool
	Rows     int64
	FirstSeq int64
	LastSeq  int64
	BrokenAt int64 // the first seq whose link or hash does not hold
	Problem  string
}
