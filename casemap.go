package onemap

import "time"

// LayerCases names the cases on the map: the change feed's rows of cases
// (migration 0014), the vector-tile layer and tileset of the open cases,
// and the layer of their live events and of the answers of /api/around
// and /api/search. It is no layer of the Catalog: cases are no features
// (their table, their writes and their rules are case.go's), but the map
// shows the open ones like a clustered point layer.
const LayerCases = "cases"

// CaseMapLayer describes the open cases as a point layer of vector tiles:
// the fields each case carries there, the flags computed at the moment the
// tile is cut (overdue, due soon), and the clustering of the other point
// layers. Its records are made per tile from the replica's open cases
// (CaseRecord); nothing of it is stored.
func CaseMapLayer() Layer {
	return Layer{
		ID: LayerCases, Title: "事件", TitleEN: "Cases", Geometry: GeometryPoint, MinZoom: 0, MaxZoom: 22, ClusterBelow: 14,
		Sensitive:     true,
		ClusterFields: []string{"status", "level", "overdue", "due_soon"},
		Fields: []Field{
			{Name: "status", Type: FieldString, Class: ClassInternal, Title: "状态", TitleEN: "Status",
				Enum: []string{string(CaseReported), string(CaseAccepted), string(CaseAssigned), string(CaseHandling), string(CaseFeedback)}},
			{Name: "category", Type: FieldString, Class: ClassInternal, Title: "类别", TitleEN: "Category"},
			// The holder's level, the county's first: of a cluster, the case
			// held highest (escalated furthest) stands for the others.
			{Name: "level", Type: FieldString, Class: ClassInternal, Title: "层级", TitleEN: "Level",
				Enum: []string{LevelCounty, LevelTownship, LevelVillage, LevelGroup}},
			{Name: "tracking_code", Type: FieldString, Class: ClassInternal, Title: "查询码", TitleEN: "Tracking code"},
			{Name: "overdue", Type: FieldBoolean, Class: ClassInternal, Title: "超时", TitleEN: "Overdue"},
			{Name: "due_soon", Type: FieldBoolean, Class: ClassInternal, Title: "即将超时", TitleEN: "Due soon"},
			{Name: "escalated", Type: FieldBoolean, Class: ClassInternal, Title: "已提级", TitleEN: "Escalated"},
			{Name: "grid_id", Type: FieldInteger, Class: ClassInternal, Title: "所属网格", TitleEN: "Grid"},
		},
	}
}

// CaseTileLayer is CaseMapLayer as vector tiles carry it: every field.
func CaseTileLayer() TileLayer {
	l := CaseMapLayer()
	tl := TileLayer{Layer: l, MinZoom: l.MinZoom, MaxZoom: l.MaxZoom, ClusterBelow: l.ClusterBelow, ClusterFields: l.ClusterFields}
	for _, f := range l.Fields {
		tl.Fields = append(tl.Fields, f.Name)
	}
	return tl
}

// CaseRecord returns case k as a record of CaseMapLayer at time now (its
// overdue and due-soon flags are now's). The record's version is the
// case's.
func CaseRecord(k *Case, now time.Time) (*Record, error) {
	return NewRecord(k.ID, int32(k.Version), k.Point, []any{string(k.Status), k.Category, k.Level,
		FormatTrackingCode(k.TrackingCode), k.Overdue(now), k.DueSoon(now), k.Escalations > 0, k.GridID})
}

// CaseStatsRow is one grid's case figures over a period [From, To): the
// flow of the period (reported, accepted, closed, refused, escalated in
// it) and the backlog at the period's end (open, overdue), as it stood
// then.
// The cases counted are those whose place lies in the grid or a grid
// below it.
type CaseStatsRow struct {
	GridID   int64
	Name     string
	Level    string
	Reported int // reported in the period
	Accepted int // accepted in the period
	Closed   int // closed (办结) in the period
	Refused  int // refused in the period
	// ClosedOnTime are those of Closed closed by their close deadline.
	ClosedOnTime int
	// ReportedClosed are those of Reported closed or refused by now: the
	// closure rate is ReportedClosed / Reported.
	ReportedClosed int
	Escalated      int // cases escalated (提级) at least once in the period
	Open           int // open at the period's end (or now, if sooner): CaseStats.At
	Overdue        int // of Open, overdue at that instant
	// Disputes are the cases of the dispute category reported in the
	// period. DisputeRecords are the disputes whose mediation record
	// (dispute.go) was opened in the period, DisputesSettled those of them
	// settled: the settlement rate (化解率) is their quotient, as
	// /api/disputes/stats counts it. SettledKnown is false when there is
	// no record to tell (the rate is then unknown, never 0).
	Disputes        int
	DisputeRecords  int
	DisputesSettled int
	SettledKnown    bool
}

// CaseStats are the figures of a grid and of each of its children.
type CaseStats struct {
	From, To time.Time
	At       time.Time // when open and overdue were counted: To, or now if To is later
	Total    CaseStatsRow
	Children []CaseStatsRow
}
