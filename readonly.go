package onemap

// EREADONLY is the code of a change refused because no primary database is
// reachable: a database answers (a standby, for reads) but none takes
// writes, as between a primary's failure and a standby's promotion. The
// HTTP layer answers it 503 with Retry-After; nothing was changed, and the
// same request may be sent again once a primary is back.
const EREADONLY = "read_only"

// ErrReadOnly is the one error of a write refused while no primary is
// reachable. The store wraps it with the database's own error
// (errors.Is(err, ErrReadOnly) holds, ErrorCode is EREADONLY).
var ErrReadOnly = &Error{Code: EREADONLY,
	Message: "no primary database is reachable (a standby is being promoted, or the primary is down): nothing was changed; " +
		"reading goes on, try the change again in a few seconds"}
