package basemap

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	_ "modernc.org/sqlite" // the pure-Go SQLite driver, "sqlite"
)

// mbtiles reads an MBTiles 1.3 archive: tiles(zoom_level, tile_column,
// tile_row, tile_data) with rows counted from the south (TMS), and
// metadata(name, value).
type mbtiles struct {
	db   *sql.DB
	get  *sql.Stmt
	info onemap.BasemapInfo
}

func openMBTiles(path string) (Tiles, error) {
	u := url.URL{Scheme: "file", Path: path, RawQuery: "mode=ro&_pragma=query_only(1)"}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, errorf(path, "%v", err)
	}
	m := &mbtiles{db: db}
	if err := m.load(path); err != nil {
		db.Close()
		return nil, err
	}
	return m, nil
}

// load reads the metadata and prepares the tile query.
func (m *mbtiles) load(path string) error {
	rows, err := m.db.Query(`SELECT name, value FROM metadata`)
	if err != nil {
		return errorf(path, "no metadata table: %v", err)
	}
	meta := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return errorf(path, "metadata: %v", err)
		}
		meta[k] = v
	}
	rows.Close()
	if m.get, err = m.db.Prepare(`SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?`); err != nil {
		return errorf(path, "no tiles table: %v", err)
	}
	in := &m.info
	in.Name, in.Attribution, in.Format = meta["name"], meta["attribution"], meta["format"]
	in.MinZoom, in.MaxZoom = 0, 22
	if err := m.zooms(meta); err != nil {
		return errorf(path, "%v", err)
	}
	// The format from the metadata, or else from the first tile; whether
	// tiles are gzipped from the first tile.
	var first []byte
	if err := m.db.QueryRow(`SELECT tile_data FROM tiles LIMIT 1`).Scan(&first); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return errorf(path, "tiles: %v", err)
	}
	sniffed, gz := sniff(first)
	if in.Format == "jpeg" {
		in.Format = "jpg"
	}
	if in.Format == "" {
		in.Format = sniffed
	}
	if !formats[in.Format] {
		return errorf(path, "tile format %q: want png, jpg, webp or pbf", in.Format)
	}
	if gz {
		in.Encoding = "gzip"
	}
	if b, ok := parseFloats(meta["bounds"], 4); ok {
		in.Bounds = orb.Bound{Min: orb.Point{b[0], b[1]}, Max: orb.Point{b[2], b[3]}}
	}
	if c, ok := parseFloats(meta["center"], 3); ok {
		in.Center = [3]float64{c[0], c[1], c[2]}
	}
	if j := meta["json"]; j != "" {
		var doc struct {
			VectorLayers []struct {
				ID      string            `json:"id"`
				Fields  map[string]string `json:"fields"`
				MinZoom int               `json:"minzoom"`
				MaxZoom int               `json:"maxzoom"`
			} `json:"vector_layers"`
		}
		if err := json.Unmarshal([]byte(j), &doc); err != nil {
			return errorf(path, "metadata json: %v", err)
		}
		for _, l := range doc.VectorLayers {
			in.VectorLayers = append(in.VectorLayers, onemap.BasemapLayer{ID: l.ID, Fields: l.Fields, MinZoom: l.MinZoom, MaxZoom: l.MaxZoom})
		}
	}
	return nil
}

// zooms reads minzoom and maxzoom from the metadata, or else from the tiles.
func (m *mbtiles) zooms(meta map[string]string) error {
	lo, hi := meta["minzoom"], meta["maxzoom"]
	if lo == "" || hi == "" {
		var a, b sql.NullInt64
		if err := m.db.QueryRow(`SELECT min(zoom_level), max(zoom_level) FROM tiles`).Scan(&a, &b); err != nil {
			return fmt.Errorf("tiles: %v", err)
		}
		if a.Valid {
			m.info.MinZoom, m.info.MaxZoom = int(a.Int64), int(b.Int64)
		}
		return nil
	}
	a, err1 := strconv.Atoi(strings.TrimSpace(lo))
	b, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if err1 != nil || err2 != nil || a < 0 || b < a || b > onemap.TileMaxZoom {
		return fmt.Errorf("minzoom %q, maxzoom %q: want whole zooms 0 to %d, the least first", lo, hi, onemap.TileMaxZoom)
	}
	m.info.MinZoom, m.info.MaxZoom = a, b
	return nil
}

// parseFloats reads n comma-separated numbers.
func parseFloats(s string, n int) ([]float64, bool) {
	parts := strings.Split(s, ",")
	if len(parts) != n {
		return nil, false
	}
	out := make([]float64, n)
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return nil, false
		}
		out[i] = v
	}
	return out, true
}

func (m *mbtiles) Info() onemap.BasemapInfo { return m.info }

func (m *mbtiles) Tile(ctx context.Context, t maptile.Tile) ([]byte, error) {
	row := (uint32(1) << t.Z) - 1 - t.Y // TMS: rows from the south
	var b []byte
	err := m.get.QueryRowContext(ctx, int(t.Z), int(t.X), int(row)).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("basemap: tile %d/%d/%d: %w", t.Z, t.X, t.Y, err)
	}
	return b, nil
}

func (m *mbtiles) Close() error {
	m.get.Close()
	return m.db.Close()
}
