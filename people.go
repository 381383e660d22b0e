package onemap

// PersonRole is what a person of the roster does.
type PersonRole string

// Roles of the roster. A grid worker (网格员) is full-time or part-time,
// several to a grid; a mediator (人民调解员) belongs to a mediation committee
// (a station of kind mediation); one village police officer (驻村民警), one
// auxiliary officer (辅警) and one legal adviser (法治指导员) serve each
// village (一村一警（辅警）一法治指导员); a responsible cadre (挂包干部)
// answers for a grid and everything in it.
const (
	PersonGridWorker      PersonRole = "grid_worker"
	PersonMediator        PersonRole = "mediator"
	PersonVillagePolice   PersonRole = "village_police"
	PersonAuxiliaryPolice PersonRole = "auxiliary_police"
	PersonLegalAdviser    PersonRole = "legal_adviser"
	PersonCadre           PersonRole = "cadre"
)

// PersonRoles returns every role of the roster, in the order lists show them.
func PersonRoles() []PersonRole {
	return []PersonRole{PersonGridWorker, PersonMediator, PersonVillagePolice, PersonAuxiliaryPolice, PersonLegalAdviser, PersonCadre}
}

// ParsePersonRole returns the roster role named s.
func ParsePersonRole(s string) (PersonRole, error) {
	for _, r := range PersonRoles() {
		if string(r) == s {
			return r, nil
		}
	}
	return "", FieldErrorf("role", EINVALID,
		"role: unknown %q (want grid_worker, mediator, village_police, auxiliary_police, legal_adviser or cadre)", s)
}

// Person is one person of the roster, tied to a grid, a station or both.
// Phone is a work phone: personal data, shown as PeopleRule says.
type Person struct {
	ID        int64
	Name      string
	Phone     string
	Role      PersonRole
	FullTime  bool
	Title     string // as the county calls the post: 专职网格员, 调委会主任, 包村干部
	GridID    int64  // 0: none
	StationID int64  // 0: none
	Synthetic bool
}

// PeopleFilter selects people of the roster. Grids, when not nil, keeps
// those tied to one of the grids listed (a caller's part of the county);
// Cadres adds, whatever Grids says, the cadres of the grids listed there
// (those who answer for the grids above a caller's own). Text matches a
// name anywhere or a phone from its start (PhoneText: only when the caller
// may search phones). Limit bounds the answer; After pages on by id.
type PeopleFilter struct {
	Grids     []int64
	Cadres    []int64
	Grid      int64 // 0: any; otherwise the grid and every grid below it
	Station   int64 // 0: any
	Roles     []PersonRole
	Text      string
	PhoneText bool
	Limit     int
	After     int64
}

// PeopleRule is what a role sees of the roster: whether it sees it at all,
// and its names and phones (allowed, masked or denied). It follows the
// policy's rule for the risk households (the roster is read by those who
// work with them): names and phones as the households' personal fields
// (their responsible cadres' names and phones). A role that may not read
// households sees no roster.
type PeopleRule struct {
	See    bool
	Names  FieldAccess
	Phones FieldAccess
}

// PeopleRule returns the role's rule for the roster.
func (p *Policy) PeopleRule(r Role) PeopleRule {
	rule := p.Rule(r, LayerHouseholds)
	if rule.Access < LayerRead {
		return PeopleRule{}
	}
	return PeopleRule{See: true, Names: rule.Classes[ClassPersonal], Phones: rule.Classes[ClassPersonal]}
}

// CadreCallable reports whether a caller bound to a grid may call a
// responsible cadre on its work phone although the roster's phones are
// masked for the caller's role: the cadre answers for the caller's own
// grid or a grid above it (chain: the caller's grid and its ancestors,
// from the caller's grid up).
func CadreCallable(p Person, chain []int64) bool {
	if p.Role != PersonCadre || p.GridID == 0 {
		return false
	}
	for _, g := range chain {
		if g == p.GridID {
			return true
		}
	}
	return false
}

// AuditPeopleRead is the audit action of a read of the roster that showed
// work phones unmasked; AuditAffectedRead of a "who is affected" answer
// that summed the members of households from their personal details.
const (
	AuditPeopleRead   = "people.read"
	AuditAffectedRead = "affected.read"
)
