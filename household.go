package onemap

// HouseholdDetails are the personal details of a risk household, kept apart
// from the household's map feature.
type HouseholdDetails struct {
	HouseholdID int64
	HeadName    string
	HeadPhone   string
	Members     int
	Address     string
	Notes       string
}
