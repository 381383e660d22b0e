package testfix

import "github.com/onemapgis/onemap/internal/syncbuf"

// SyncBuffer is a bytes.Buffer that one goroutine (a process's output, a
// log) writes to while the test reads it: syncbuf.Buffer, which the
// benchmark program uses too.
type SyncBuffer = syncbuf.Buffer
