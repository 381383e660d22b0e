package onemap

// The region levels of the grid tree: in a deployment of many counties the
// grids above the county are the prefecture (州/市, e.g. 楚雄州,
// 532300000000) and the province (省, e.g. 云南省, 530000000000). A
// deployment of one county keeps its county as the top grid. An account
// bound to a region grid sees that grid and everything below it, as an
// account bound to a township does (Role.BoundToRegion); cases go no
// higher than the county (CaseLevels).
const (
	LevelProvince   = "province"
	LevelPrefecture = "prefecture"
)

// RegionLevels returns the levels of the grid tree that are regions, from
// the top down: province, prefecture, county.
func RegionLevels() []string { return []string{LevelProvince, LevelPrefecture, LevelCounty} }

// IsRegionLevel reports whether level is one of RegionLevels.
func IsRegionLevel(level string) bool {
	return level == LevelProvince || level == LevelPrefecture || level == LevelCounty
}
