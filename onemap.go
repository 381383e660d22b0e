// Package onemap is the domain vocabulary of OneMap, the one-map GIS platform
// for county and township governance: the layers of a county (grids, risk
// points, risk households, cameras, service stations), their fields, records
// and features, the roles of the people who read them and the access policy
// that decides what each role sees (and its view for one caller), accounts,
// sessions, the rules of signing in and the caller of a request, grids with
// their versions and the rules of importing them, cases from report to
// closure (statuses, steps, time limits, tracking codes), the actions of the
// audit trail, the checks of typed values
// (texts, telephone numbers, coordinates, geometries' vertices), and the
// error type every other package returns.
//
// It imports only the standard library, orb, and golang.org/x/text/width,
// which folds the full-width characters of Chinese input methods
// (０８７８－…) in telephone numbers to ASCII. It does no I/O: storage
// lives in package postgis, the in-memory replica in inmem, tiles in tiles
// and HTTP in api; cmd/onemap wires them together.
package onemap

// Version is the version of OneMap, set at build time with
// -ldflags "-X github.com/onemapgis/onemap.Version=...".
var Version = "dev"

// SRIDWGS84 is the spatial reference of every stored and served coordinate:
// WGS-84 longitude/latitude (CGCS2000 is treated as equal).
const SRIDWGS84 = 4326

// SRIDWebMercator is the projection of map tiles.
const SRIDWebMercator = 3857
