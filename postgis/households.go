package postgis

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
)

// ReadHouseholdDetails returns a household's personal details and records
// the read, with its purpose, in the audit trail in the same transaction:
// no read without its record.
func (db *DB) ReadHouseholdDetails(ctx context.Context, id int64, purpose string) (onemap.HouseholdDetails, error) {
	c := callerOf(ctx)
	var d onemap.HouseholdDetails
	err := db.inTx(ctx, c.Actor(), purpose, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT household_id, coalesce(head_name, ''), coalesce(head_phone, ''), coalesce(members, 0),
			coalesce(address, ''), coalesce(notes, '') FROM household_details WHERE household_id = $1`, id).
			Scan(&d.HouseholdID, &d.HeadName, &d.HeadPhone, &d.Members, &d.Address, &d.Notes)
		if err != nil {
			if onemap.ErrorCode(mapError(err)) == onemap.ENOTFOUND {
				return onemap.Errorf(onemap.ENOTFOUND, "household %d has no details", id)
			}
			return mapError(err)
		}
		return appendAudit(ctx, tx, c, onemap.AuditHouseholdRead, fmt.Sprintf("households/%d", id), map[string]any{"purpose": purpose})
	})
	return d, err
}
