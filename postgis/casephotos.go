package postgis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
)

// insertCasePhotos stores the photos of step seq of case id, in the
// transaction that writes the step: each photo's bytes once under their
// address (a photo already stored is not stored again), then the step's
// list of them; a JPEG that keeps an orientation tag (package photo) is
// queued to be turned upright after the commit (casephototurns.go). It is
// called before the audit record is appended (the lock order of migration
// 0011).
func insertCasePhotos(ctx context.Context, tx pgx.Tx, id int64, seq int, photos []onemap.Photo, at time.Time) error {
	if len(photos) > onemap.CaseMaxPhotos {
		return onemap.FieldErrorf("photo", onemap.EINVALID, "at most %d photos a step (got %d)", onemap.CaseMaxPhotos, len(photos))
	}
	for i, p := range photos {
		if !onemap.IsPhotoHash(p.SHA256) || onemap.NewPhoto(p.ContentType, p.Bytes).SHA256 != p.SHA256 {
			return fmt.Errorf("postgis: photo %d of case %d: its address is not the SHA-256 of its bytes", i+1, id)
		}
		tag, err := tx.Exec(ctx, `INSERT INTO photo_blobs (sha256, content_type, size, bytes, created_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sha256) DO NOTHING`,
			p.SHA256, p.ContentType, len(p.Bytes), p.Bytes, at)
		if err != nil {
			return mapError(fmt.Errorf("postgis: store photo: %w", err))
		}
		// A photo stored before is turned already, or queued.
		if tag.RowsAffected() == 1 {
			if err := queuePhotoTurn(ctx, tx, p, at); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO case_photos (case_id, seq, position, sha256, added_at) VALUES ($1, $2, $3, $4, $5)`,
			id, seq, i+1, p.SHA256, at)
		if err != nil {
			return mapError(fmt.Errorf("postgis: case photo: %w", err))
		}
	}
	return nil
}

// CasePhotos returns the photos of case id's steps, by step and position,
// without their bytes: each under the address it was accepted with, with
// the type and size of what is served there (the upright photo once it is
// turned).
func (s *Cases) CasePhotos(ctx context.Context, id int64) ([]onemap.CasePhoto, error) {
	rows, err := s.db.read.Query(ctx, `SELECT p.case_id, p.seq, p.position, p.sha256,
			coalesce(u.content_type, b.content_type), coalesce(u.size, b.size), p.added_at
		FROM case_photos p JOIN photo_blobs b USING (sha256) LEFT JOIN photo_blobs u ON u.sha256 = b.upright_sha256
		WHERE p.case_id = $1 ORDER BY p.seq, p.position`, id)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: case photos: %w", err))
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (onemap.CasePhoto, error) {
		var p onemap.CasePhoto
		err := r.Scan(&p.CaseID, &p.Seq, &p.Position, &p.SHA256, &p.ContentType, &p.Size, &p.AddedAt)
		p.AddedAt = p.AddedAt.UTC()
		return p, err
	})
}

// ReadCasePhoto returns the photo with address sha256 if it is one of case
// id's, and appends the view to the audit trail in the same transaction:
// no photo leaves the database unaudited. A photo that is not the case's
// (even one stored for another case) is ENOTFOUND. Once turned upright, the
// photo returned is the upright one (its own SHA256); before, the one
// accepted (its orientation tag alone), Turning.
func (s *Cases) ReadCasePhoto(ctx context.Context, id int64, sha256 string) (*onemap.Photo, error) {
	caller := callerOf(ctx)
	var (
		p   onemap.Photo
		seq int
	)
	err := s.db.inTx(ctx, caller.Actor(), "", func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT p.seq, coalesce(u.sha256, b.sha256), coalesce(u.content_type, b.content_type),
				coalesce(u.bytes, b.bytes), EXISTS (SELECT 1 FROM photo_turns t WHERE t.sha256 = b.sha256)
			FROM case_photos p JOIN photo_blobs b USING (sha256) LEFT JOIN photo_blobs u ON u.sha256 = b.upright_sha256
			WHERE p.case_id = $1 AND p.sha256 = $2
			ORDER BY p.seq, p.position LIMIT 1`, id, sha256).Scan(&seq, &p.SHA256, &p.ContentType, &p.Bytes, &p.Turning)
		if errors.Is(err, pgx.ErrNoRows) {
			return onemap.Errorf(onemap.ENOTFOUND, "case %d has no photo %.64s", id, sha256)
		}
		if err != nil {
			return mapError(fmt.Errorf("postgis: case photo: %w", err))
		}
		return appendAudit(ctx, tx, caller, onemap.AuditCasePhotoRead, caseTarget(id), map[string]any{"sha256": sha256, "seq": seq})
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// PublicCaseCategories returns the categories the public may file a report
// under (the active ones), in the county's order.
func (s *Cases) PublicCaseCategories(ctx context.Context) ([]onemap.CaseCategory, error) {
	rows, err := s.db.read.Query(ctx, `SELECT code, name FROM case_categories WHERE active ORDER BY sort, code`)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: case categories: %w", err))
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (onemap.CaseCategory, error) {
		var c onemap.CaseCategory
		return c, r.Scan(&c.Code, &c.Name)
	})
}
