package onemap

import (
	"context"
	"encoding/json"
	"time"
)

// Account is a person who signs in. The public never does.
type Account struct {
	ID          int64
	Name        string // sign-in name: letters, digits, _ . @ -
	DisplayName string
	Role        Role
	// GridID binds a viewer to a grid: the viewer sees that grid and the
	// grids below it. 0 for the other roles.
	GridID   int64
	Disabled bool
}

// Session is a signed-in browser's server-side session.
type Session struct {
	Account   Account
	CSRF      string // echoed by the browser in X-CSRF-Token on unsafe requests
	ExpiresAt time.Time
}

// Caller is who makes a request: an account, or the public. Every output
// path asks the policy with the caller's role, and every write and audit
// record names the caller.
type Caller struct {
	Name   string // account name; "" for an anonymous caller
	Role   Role
	GridID int64  // a viewer's grid; 0 for everyone else
	Client string // the client's address
}

// Actor names the caller in history and the audit trail.
func (c Caller) Actor() string {
	if c.Name == "" {
		return "anonymous"
	}
	return c.Name
}

type callerKey struct{}

// NewContext returns ctx carrying the caller, for the writes that record who
// made them and from where.
func NewContext(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller carried by ctx.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// AuditRecord is one entry of the audit trail.
type AuditRecord struct {
	Seq    int64           `json:"seq"`
	At     time.Time       `json:"at"`
	Actor  string          `json:"actor"`
	Role   string          `json:"role"`
	Client string          `json:"client"`
	Action string          `json:"action"`
	Target string          `json:"target"`
	Detail json.RawMessage `json:"detail"`
}

// Audit actions written by the application (edits are written by the
// database itself, as "edit").
const (
	AuditLogin         = "login"
	AuditLoginFailed   = "login.failed"
	AuditLogout        = "logout"
	AuditLogoutAll     = "logout.all"
	AuditDenied        = "denied"
	AuditHouseholdRead = "household.read"
	// AuditHouseholdEdit records an edit of a household's personal
	// details: the names of the fields changed, never their values.
	AuditHouseholdEdit = "household.edit"
	// AuditPersonalBurst flags an account that read many persons' personal
	// data in a short time (api's personal-read limits say how many).
	AuditPersonalBurst = "personal.burst"
	AuditExport        = "export"
	AuditAccount       = "account" // an account added, its role, password or state changed

	// A planner's grid edits, with their reason (each edited row is also an
	// "edit" written by the database).
	AuditGridCreate  = "grid.create"
	AuditGridUpdate  = "grid.update"
	AuditGridDelete  = "grid.delete"
	AuditGridSplit   = "grid.split"
	AuditGridMerge   = "grid.merge"
	AuditGridRestore = "grid.restore"
	AuditGridImport  = "grid.import"

	// AuditEdit is the action of the database's own trigger: one edited row.
	AuditEdit = "edit"
)

// AuditActions lists every action the audit trail holds, in the order the
// auditor's page offers them.
func AuditActions() []string {
	return []string{AuditLogin, AuditLoginFailed, AuditLogout, AuditLogoutAll, AuditDenied, AuditHouseholdRead,
		AuditPersonalBurst, AuditExport, AuditEdit, AuditGridCreate, AuditGridUpdate, AuditGridDelete, AuditGridSplit, AuditGridMerge,
		AuditGridRestore, AuditGridImport, AuditAccount, AuditCaseCreate, AuditCaseAction, AuditCasePhoneRead,
		AuditCasePhotoRead, AuditCaseExport, AuditVisitCreate, AuditVisitRead, AuditDisputeWrite, AuditDisputePartiesRead,
		AuditSourceAdd, AuditSourceRevoke, AuditSourceList, AuditSourceRekey, AuditIngest, AuditAlarmAck, AuditAlarmDismiss, AuditAlarmCase,
		AuditAlarmRead, AuditAlarmSnapshot, AuditAlarmPrune, AuditCameraLive, AuditHouseholdEdit,
		AuditAssessCreate, AuditAssessDecide, AuditAssessRead, AuditAssessRuleSet, AuditPeopleRead,
		AuditAffectedRead, AuditTagOwnerRead, AuditGeofenceAdd, AuditGeofenceDelete, AuditTagRetention}
}
