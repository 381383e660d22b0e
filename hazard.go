package onemap

// emergencyLayers returns the layers of the emergency picture: hazard zones
// (the areas a hazard threatens, with the households and people in them)
// and shelters and evacuation sites (安置点, with how many people each
// takes). grid is the layers' grid field.
func emergencyLayers(grid Field) []Layer {
	return []Layer{{
		ID: LayerHazardZones, Title: "危险区", TitleEN: "Hazard zones", Geometry: GeometryMultiPolygon, MinZoom: 0, MaxZoom: 22, Sensitive: true,
		Fields: []Field{
			{Name: "kind", Type: FieldString, Class: ClassInternal, Title: "类别", TitleEN: "Kind", Required: true},
			{Name: "name", Type: FieldString, Class: ClassInternal, Title: "名称", TitleEN: "Name", Required: true, MaxLen: 100},
			{Name: "level", Type: FieldString, Class: ClassInternal, Title: "风险等级", TitleEN: "Risk level", Required: true, Enum: riskLevels},
			{Name: "risk_point_id", Type: FieldInteger, Class: ClassInternal, Title: "所属隐患点", TitleEN: "Risk point"},
			grid,
			{Name: "threatened_households", Type: FieldInteger, Class: ClassInternal, Title: "威胁户数", TitleEN: "Households threatened", Counted: true},
			{Name: "threatened_people", Type: FieldInteger, Class: ClassInternal, Title: "威胁人数", TitleEN: "People threatened", Counted: true},
		},
	}, {
		ID: LayerShelters, Title: "避难安置点", TitleEN: "Shelters", Geometry: GeometryPoint, MinZoom: 0, MaxZoom: 22, Sensitive: true,
		Fields: []Field{
			{Name: "kind", Type: FieldString, Class: ClassPublic, Title: "类别", TitleEN: "Kind", Required: true},
			{Name: "name", Type: FieldString, Class: ClassPublic, Title: "名称", TitleEN: "Name", Required: true, MaxLen: 100},
			{Name: "capacity", Type: FieldInteger, Class: ClassPublic, Title: "容纳人数", TitleEN: "Capacity", Required: true, Counted: true},
			{Name: "address", Type: FieldString, Class: ClassPublic, Title: "地址", TitleEN: "Address"},
			{Name: "grid_id", Type: FieldInteger, Class: ClassPublic, Title: "所属网格", TitleEN: "Grid"},
		},
	}}
}

// SeverityRank orders risk levels from the most severe (0: 重大, red) to
// the least (3: 低, blue); anything else ranks after them.
func SeverityRank(level string) int {
	for i, l := range riskLevels {
		if l == level {
			return i
		}
	}
	return len(riskLevels)
}

// Threat is what a set of hazards threatens: households and people, as the
// hazard zones and risk points give them (their threatened_households and
// threatened_people).
type Threat struct {
	Households int64
	People     int64
}
