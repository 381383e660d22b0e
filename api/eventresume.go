package api

import (
	"context"
	"time"

	"github.com/onemapgis/onemap"
)

// changeReader reads the change feed from the database (Deps.FeedChanges):
// postgis.DB's Changes, on the primary or a standby.
type changeReader interface {
	Changes(ctx context.Context, after int64, limit int) ([]onemap.Change, error)
}

// eventResumeWait bounds the database read of a stream that resumes from
// before what the server's hub holds.
const eventResumeWait = 5 * time.Second

// resumeFromFeed completes the replay of a stream that resumes after
// sequence number after when the hub no longer holds (or never held) every
// change since: a server started after the browser's last event, or one
// the load balancer sends it to after another failed. It reads the missing
// changes, up to the first the hub holds (replay's first, or head when
// replay is empty), from the database, at most eventRecent of them, and
// returns them before replay, with true; or replay unchanged and false,
// when there are more than that or the database does not answer (the
// client is told to reload, the "reset" event).
func (s *Server) resumeFromFeed(ctx context.Context, after, head int64, replay []onemap.Change) ([]onemap.Change, bool) {
	if s.feedChanges == nil {
		return replay, false
	}
	upTo := head
	if len(replay) > 0 {
		upTo = replay[0].Seq - 1
	}
	ctx, cancel := context.WithTimeout(ctx, eventResumeWait)
	defer cancel()
	got, err := s.feedChanges.Changes(ctx, after, eventRecent+1)
	if err != nil {
		s.log.Warn("event stream: resume from the change feed failed", "after", after, "error", err)
		return replay, false
	}
	missing := got[:0]
	reached := false
	for _, c := range got {
		if c.Seq > upTo {
			reached = true
			break
		}
		missing = append(missing, c)
	}
	if !reached && len(got) > eventRecent {
		return replay, false // more than a stream replays: reload
	}
	return append(missing, replay...), true
}
