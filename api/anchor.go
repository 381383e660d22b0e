package api

import (
	"context"

	"github.com/onemapgis/onemap/checkpoint"
)

// auditAnchor verifies the audit trail against the latest of its signed
// checkpoints (a *checkpoint.Anchor, which cmd/onemap wires).
type auditAnchor interface {
	Verify(ctx context.Context) (checkpoint.Report, error)
}
