package onemap

import (
	"slices"

	"github.com/paulmach/orb/maptile"
)

// FieldType is the type of a feature property.
type FieldType string

// Field types. They are also the type names TileJSON's vector_layers use.
const (
	FieldString  FieldType = "String"
	FieldInteger FieldType = "Integer"
	FieldNumber  FieldType = "Number"
	FieldBoolean FieldType = "Boolean"
	FieldDate    FieldType = "Date" // a calendar day, written YYYY-MM-DD
	FieldStrings FieldType = "String[]"
	FieldTime    FieldType = "Time" // a moment, written in RFC 3339 in UTC
)

// FieldClass says how sensitive a field is; the access policy decides per
// role what each class becomes.
type FieldClass string

// Field classes, from least to most sensitive.
const (
	ClassPublic   FieldClass = "public"   // may be shown to anybody who may see the layer
	ClassInternal FieldClass = "internal" // for staff
	ClassPersonal FieldClass = "personal" // personal data of a named person (a name, a phone)
	ClassSystem   FieldClass = "system"   // bookkeeping: versions, authors, times
)

// Field is one property of a layer's features.
type Field struct {
	Name     string
	Type     FieldType
	Class    FieldClass
	Title    string // Chinese
	TitleEN  string
	Required bool // an import must give it
	ReadOnly bool // kept by the database; an import may not set it
	Enum     []string
	Unit     string // of a number, as shown after it: "°", "米"
	MaxLen   int    // of a string, in characters; 0 is MaxStringLen
	Phone    bool   // a string that is a telephone number (or several)
	Counted  bool   // an integer that counts something: 0 or more
}

// MaxStringLen bounds a string field without its own MaxLen, in characters.
const MaxStringLen = 2000

// GeometryType is the geometry every feature of a layer has.
type GeometryType string

// Geometry types of layers.
const (
	GeometryPoint        GeometryType = "Point"
	GeometryMultiPolygon GeometryType = "MultiPolygon"
)

// ClusterZoomOffset says how finely vector tiles cluster points (see
// Layer.ClusterBelow): a tile of zoom z gathers them in cells that are the
// map tiles of zoom z+ClusterZoomOffset, 32 on a tile's side, so 16 px
// apart on a map of 512 px tiles, as far as a cluster's circle grows. The
// replica counts points in those cells.
const ClusterZoomOffset = 5

// Layer describes one map layer. Its ID is also its table name and the name
// of its layer in vector tiles.
type Layer struct {
	ID       string
	Title    string // Chinese
	TitleEN  string
	Geometry GeometryType
	Fields   []Field
	MinZoom  maptile.Zoom
	MaxZoom  maptile.Zoom
	// LevelMinZoom, if set, is the zoom from which vector tiles carry the
	// features of each level (a level not listed: from MinZoom): the
	// 1,580 village groups of a county are noise on a map of the county.
	LevelMinZoom map[string]maptile.Zoom
	// ClusterBelow is, for a point layer, the zoom below which vector tiles
	// cluster its points (0: never); see tiles.Encode.
	ClusterBelow maptile.Zoom
	// ClusterFields are the fields that a clustered point, one that stands
	// for several, keeps in vector tiles: those the map's style and layer
	// switches read. It is one of many, so its own name, phone or code
	// would mislabel the rest; the map reads them from the feature's page
	// when it is clicked. Nil keeps every field.
	ClusterFields []string
	// ClusterCountBy names a field whose values a clustered point counts
	// apart in vector tiles, one property per value
	// (tiles.CountByPrefix: point_count_kind_clinic, …), so that a cluster
	// can show its mix of kinds; only counts, never a member's own values.
	// "": none.
	ClusterCountBy string
	// Sensitive layers are never shown to the public.
	Sensitive bool
	// Key is the field that names a feature for good, its natural key (a
	// camera's device code, a household's number): an import finds the
	// feature that is already there by it and updates it. "": none.
	Key string
	// Editable lists the fields a feature edit (PATCH
	// /api/layers/{layer}/features/{id}) may set; nil: the layer's
	// features are not edited that way (grids have their own editor).
	Editable []string
	// Movable says whether a feature edit may move the feature.
	Movable bool
}

// CanEditField reports whether a feature edit may set the field.
func (l *Layer) CanEditField(name string) bool { return slices.Contains(l.Editable, name) }

// LevelsAt returns, of the levels given (all of the layer's when nil), those
// that vector tiles at zoom z carry; nil means every level.
func (l *Layer) LevelsAt(z maptile.Zoom, levels []string) []string {
	if l.LevelMinZoom == nil {
		return levels
	}
	if levels == nil {
		f, _ := l.Field("level")
		levels = f.Enum
	}
	out := []string{}
	for _, lv := range levels {
		if z >= l.LevelMinZoom[lv] {
			out = append(out, lv)
		}
	}
	return out
}

// Field returns the field called name.
func (l *Layer) Field(name string) (Field, bool) {
	i := slices.IndexFunc(l.Fields, func(f Field) bool { return f.Name == name })
	if i < 0 {
		return Field{}, false
	}
	return l.Fields[i], true
}

// Risk levels, from most to least severe: 重大, 较大, 一般, 低.
var riskLevels = []string{"red", "orange", "yellow", "blue"}

// Layer IDs.
const (
	LayerGrids      = "grids"
	LayerRiskPoints = "risk_points"
	LayerHouseholds = "households"
	LayerCameras    = "cameras"
	LayerStations   = "stations"
	// The emergency picture (zone.go): hazard zones and shelters.
	LayerHazardZones = "hazard_zones"
	LayerShelters    = "shelters"
)

// systemFields are on every layer.
func systemFields() []Field {
	return []Field{
		{Name: "version", Type: FieldInteger, Class: ClassSystem, Title: "版本", TitleEN: "Version", ReadOnly: true},
		{Name: "created_at", Type: FieldTime, Class: ClassSystem, Title: "创建时间", TitleEN: "Created at", ReadOnly: true},
		{Name: "created_by", Type: FieldString, Class: ClassSystem, Title: "创建人", TitleEN: "Created by", ReadOnly: true},
		{Name: "updated_at", Type: FieldTime, Class: ClassSystem, Title: "更新时间", TitleEN: "Updated at", ReadOnly: true},
		{Name: "updated_by", Type: FieldString, Class: ClassSystem, Title: "更新人", TitleEN: "Updated by", ReadOnly: true},
		{Name: "synthetic", Type: FieldBoolean, Class: ClassPublic, Title: "合成数据", TitleEN: "Synthetic"},
	}
}

// Catalog is the server's own list of layers: the only source of table and
// column names that reach SQL.
type Catalog struct {
	layers []Layer
}

// NewCatalog returns the catalogue of OneMap's layers.
func NewCatalog() *Catalog {
	grid := Field{Name: "grid_id", Type: FieldInteger, Class: ClassInternal, Title: "所属网格", TitleEN: "Grid"}
	layers := []Layer{{
		ID: LayerGrids, Title: "网格", TitleEN: "Grids", Geometry: GeometryMultiPolygon, MinZoom: 0, MaxZoom: 22,
		LevelMinZoom: map[string]maptile.Zoom{"village": 8, "group": 11},
		Fields: []Field{
			{Name: "level", Type: FieldString, Class: ClassPublic, Title: "层级", TitleEN: "Level", Required: true,
				Enum: []string{"province", "prefecture", "county", "township", "village", "group"}},
			{Name: "parent_id", Type: FieldInteger, Class: ClassPublic, Title: "上级网格", TitleEN: "Parent"},
			{Name: "code", Type: FieldString, Class: ClassPublic, Title: "编码", TitleEN: "Code", Required: true},
			{Name: "name", Type: FieldString, Class: ClassPublic, Title: "名称", TitleEN: "Name", Required: true, MaxLen: 100},
			{Name: "worker_name", Type: FieldString, Class: ClassPersonal, Title: "网格员", TitleEN: "Grid worker", MaxLen: 50},
			{Name: "worker_phone", Type: FieldString, Class: ClassPersonal, Title: "网格员电话", TitleEN: "Grid worker phone", Phone: true},
			{Name: "households", Type: FieldInteger, Class: ClassInternal, Title: "户数", TitleEN: "Households", Counted: true},
			{Name: "population", Type: FieldInteger, Class: ClassInternal, Title: "人口", TitleEN: "Population", Counted: true},
		},
	}, {
		ID: LayerRiskPoints, Title: "风险隐患点", TitleEN: "Risk points", Geometry: GeometryPoint, MinZoom: 0, MaxZoom: 22, ClusterBelow: 14, Sensitive: true,
		ClusterFields: []string{"kind", "level"},
		Key:           "code", Movable: true,
		Editable: []string{"kind", "name", "level", "responsible_name", "responsible_phone", "description",
			"last_assessed_on", "next_assessment_due"},
		Fields: []Field{
			{Name: "kind", Type: FieldString, Class: ClassInternal, Title: "类别", TitleEN: "Kind", Required: true},
			{Name: "name", Type: FieldString, Class: ClassInternal, Title: "名称", TitleEN: "Name", Required: true, MaxLen: 100},
			{Name: "level", Type: FieldString, Class: ClassInternal, Title: "风险等级", TitleEN: "Risk level", Required: true, Enum: riskLevels},
			grid,
			{Name: "responsible_name", Type: FieldString, Class: ClassPersonal, Title: "责任人", TitleEN: "Responsible person"},
			{Name: "responsible_phone", Type: FieldString, Class: ClassPersonal, Title: "责任人电话", TitleEN: "Responsible phone", Phone: true},
			{Name: "description", Type: FieldString, Class: ClassInternal, Title: "描述", TitleEN: "Description"},
			{Name: "last_assessed_on", Type: FieldDate, Class: ClassInternal, Title: "上次评估", TitleEN: "Last assessed"},
			{Name: "next_assessment_due", Type: FieldDate, Class: ClassInternal, Title: "下次评估", TitleEN: "Next assessment"},
			{Name: "code", Type: FieldString, Class: ClassInternal, Title: "编码", TitleEN: "Code", MaxLen: 40},
			{Name: "threatened_households", Type: FieldInteger, Class: ClassInternal, Title: "威胁户数", TitleEN: "Households threatened", Counted: true},
			{Name: "threatened_people", Type: FieldInteger, Class: ClassInternal, Title: "威胁人数", TitleEN: "People threatened", Counted: true},
		},
	}, {
		ID: LayerHouseholds, Title: "风险户", TitleEN: "Risk households", Geometry: GeometryPoint, MinZoom: 0, MaxZoom: 22, ClusterBelow: 14, Sensitive: true,
		ClusterFields: []string{"kind", "level"},
		Key:           "code", Movable: true,
		Editable: []string{"kind", "level", "responsible_name", "responsible_phone", "last_assessed_on", "next_assessment_due"},
		Fields: []Field{
			{Name: "kind", Type: FieldString, Class: ClassInternal, Title: "矛盾类别", TitleEN: "Dispute kind", Required: true},
			{Name: "level", Type: FieldString, Class: ClassInternal, Title: "风险等级", TitleEN: "Risk level", Required: true, Enum: riskLevels},
			grid,
			{Name: "responsible_name", Type: FieldString, Class: ClassPersonal, Title: "挂包责任人", TitleEN: "Responsible cadre", Required: true},
			{Name: "responsible_phone", Type: FieldString, Class: ClassPersonal, Title: "责任人电话", TitleEN: "Responsible phone", Phone: true},
			{Name: "last_assessed_on", Type: FieldDate, Class: ClassInternal, Title: "上次评估", TitleEN: "Last assessed", Required: true},
			{Name: "next_assessment_due", Type: FieldDate, Class: ClassInternal, Title: "下次评估", TitleEN: "Next assessment", Required: true},
			{Name: "code", Type: FieldString, Class: ClassInternal, Title: "编码", TitleEN: "Code", MaxLen: 40},
		},
	}, {
		ID: LayerCameras, Title: "视频监控", TitleEN: "Cameras", Geometry: GeometryPoint, MinZoom: 0, MaxZoom: 22, ClusterBelow: 16, Sensitive: true,
		ClusterFields: []string{"kind", "status"},
		// The attributes of a camera; where it stands and its device code
		// are the video platform's.
		Key:      "device_code",
		Editable: []string{"name", "kind", "status", "heading", "fov"},
		Fields: []Field{
			{Name: "device_code", Type: FieldString, Class: ClassInternal, Title: "设备编码", TitleEN: "Device code", Required: true},
			{Name: "name", Type: FieldString, Class: ClassInternal, Title: "名称", TitleEN: "Name", Required: true, MaxLen: 100},
			{Name: "kind", Type: FieldString, Class: ClassInternal, Title: "类型", TitleEN: "Kind", Required: true},
			{Name: "status", Type: FieldString, Class: ClassInternal, Title: "状态", TitleEN: "Status", Required: true,
				Enum: []string{"online", "offline", "fault"}},
			{Name: "heading", Type: FieldNumber, Class: ClassInternal, Title: "朝向", TitleEN: "Heading", Unit: "°"},
			{Name: "fov", Type: FieldNumber, Class: ClassInternal, Title: "视场角", TitleEN: "Field of view", Unit: "°"},
			grid,
		},
	}, {
		ID: LayerStations, Title: "服务站点", TitleEN: "Service stations", Geometry: GeometryPoint, MinZoom: 0, MaxZoom: 22, ClusterBelow: 14,
		ClusterFields: []string{"kind", "level"}, ClusterCountBy: "kind",
		Key: "code", Movable: true,
		Editable: []string{"kind", "level", "name", "address", "phone", "opening_hours", "services"},
		Fields: []Field{
			{Name: "kind", Type: FieldString, Class: ClassPublic, Title: "类别", TitleEN: "Kind", Required: true},
			{Name: "level", Type: FieldString, Class: ClassPublic, Title: "层级", TitleEN: "Level", Required: true,
				Enum: []string{"county", "township", "village"}},
			{Name: "name", Type: FieldString, Class: ClassPublic, Title: "名称", TitleEN: "Name", Required: true, MaxLen: 100},
			{Name: "address", Type: FieldString, Class: ClassPublic, Title: "地址", TitleEN: "Address"},
			{Name: "phone", Type: FieldString, Class: ClassPublic, Title: "电话", TitleEN: "Phone", Phone: true},
			{Name: "opening_hours", Type: FieldString, Class: ClassPublic, Title: "办公时间", TitleEN: "Opening hours"},
			{Name: "services", Type: FieldStrings, Class: ClassPublic, Title: "服务事项", TitleEN: "Services"},
			{Name: "grid_id", Type: FieldInteger, Class: ClassPublic, Title: "所属网格", TitleEN: "Grid"},
			{Name: "code", Type: FieldString, Class: ClassPublic, Title: "编码", TitleEN: "Code", MaxLen: 40},
		},
	}}
	layers = append(layers, emergencyLayers(grid)...)
	for i := range layers {
		layers[i].Fields = append(layers[i].Fields, systemFields()...)
	}
	return &Catalog{layers: layers}
}

// Layers returns every layer, in a fixed order.
func (c *Catalog) Layers() []Layer { return slices.Clone(c.layers) }

// Layer returns the layer with the ID, or an ENOTFOUND error.
func (c *Catalog) Layer(id string) (Layer, error) {
	for _, l := range c.layers {
		if l.ID == id {
			return l, nil
		}
	}
	return Layer{}, Errorf(ENOTFOUND, "layer %q not found", id)
}
