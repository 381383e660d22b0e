package api

import (
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
)

// oasObject is a JSON object of the OpenAPI document.
type oasObject = map[string]any

// oasRef returns a reference to a component.
func oasRef(kind, name string) oasObject {
	return oasObject{"$ref": "#/components/" + kind + "/" + name}
}

// oasArray returns the schema of an array of items.
func oasArray(items oasObject) oasObject { return oasObject{"type": "array", "items": items} }

// ogcOpenAPI returns the OpenAPI 3.0 definition of /ogc as the caller's role
// may reach it: one path per collection it may read, the fields it may see
// (masked ones as strings), and the levels its level filter keeps.
func (s *Server) ogcOpenAPI(c *gin.Context) oasObject {
	v := s.view(c)
	errorResponses := func(codes ...int) oasObject {
		out := oasObject{}
		for _, code := range codes {
			switch code {
			case 400:
				out["400"] = oasRef("responses", "InvalidParameter")
			case 404:
				out["404"] = oasRef("responses", "NotFound")
			}
		}
		out["500"] = oasRef("responses", "ServerError")
		return out
	}
	op := func(id, summary, desc, tag string, params []any, ok, errs oasObject) oasObject {
		responses := oasObject{"200": ok}
		for k, v := range errs {
			responses[k] = v
		}
		o := oasObject{"operationId": id, "summary": summary, "description": desc, "tags": []string{tag}, "responses": responses}
		if len(params) > 0 {
			o["parameters"] = params
		}
		return oasObject{"get": o}
	}
	okJSON := func(desc string, schema oasObject) oasObject {
		return oasObject{"description": desc, "content": oasObject{ogcJSONType: oasObject{"schema": schema}}}
	}
	okGeoJSON := func(desc string, schema oasObject) oasObject {
		return oasObject{"description": desc, "content": oasObject{ogcGeoJSONType: oasObject{"schema": schema}}}
	}

	paths := oasObject{
		"/": op("getLandingPage", "Landing page",
			"Links to the API definition, the conformance declaration and the feature collections.",
			"Capabilities", nil, okJSON("The landing page.", oasRef("schemas", "landingPage")), errorResponses(400)),
		"/conformance": op("getConformanceDeclaration", "Conformance classes",
			"The conformance classes of OGC API – Features – Part 1: Core that this API implements.",
			"Capabilities", nil, okJSON("The conformance declaration.", oasRef("schemas", "confClasses")), errorResponses(400)),
		"/api": op("getAPIDefinition", "This API definition",
			"The OpenAPI 3.0 definition of this API, as the caller's role may reach it.", "Capabilities", nil,
			oasObject{"description": "The API definition.", "content": oasObject{
				ogcOpenAPIType: oasObject{"schema": oasObject{"type": "object"}},
				ogcJSONType:    oasObject{"schema": oasObject{"type": "object"}},
			}}, errorResponses(400)),
		"/collections": op("getCollections", "Feature collections",
			"The collections the caller's role may read: one per layer, with its spatial extent.",
			"Capabilities", nil, okJSON("The feature collections.", oasRef("schemas", "collections")), errorResponses(400)),
	}
	schemas := ogcBaseSchemas()
	for _, l := range v.Readable() {
		rule := v.Rule(l.ID)
		id := l.ID
		props, fieldNames := oasObject{}, []string{}
		for _, f := range v.Fields(l.ID) {
			fieldNames = append(fieldNames, f.Name)
			props[f.Name] = oasFieldSchema(f, rule, v.Field(l.ID, f.Name) == onemap.FieldMask)
		}
		geometry := "pointGeoJSON"
		if l.Geometry == onemap.GeometryMultiPolygon {
			geometry = "multipolygonGeoJSON"
		}
		schemas["properties_"+id] = oasObject{"type": "object", "properties": props}
		schemas["feature_"+id] = oasObject{
			"type":     "object",
			"required": []string{"type", "geometry", "properties"},
			"properties": oasObject{
				"type":       oasObject{"type": "string", "enum": []string{"Feature"}},
				"id":         oasObject{"type": "integer", "format": "int64"},
				"geometry":   oasRef("schemas", geometry),
				"properties": oasRef("schemas", "properties_"+id),
				"links":      oasArray(oasRef("schemas", "link")),
			},
		}
		schemas["featureCollection_"+id] = oasObject{
			"type":     "object",
			"required": []string{"type", "features"},
			"properties": oasObject{
				"type":           oasObject{"type": "string", "enum": []string{"FeatureCollection"}},
				"features":       oasArray(oasRef("schemas", "feature_"+id)),
				"links":          oasArray(oasRef("schemas", "link")),
				"timeStamp":      oasRef("schemas", "timeStamp"),
				"numberMatched":  oasRef("schemas", "numberMatched"),
				"numberReturned": oasRef("schemas", "numberReturned"),
			},
		}
		properties := oasObject{
			"name": "properties", "in": "query", "required": false, "style": "form", "explode": false,
			"description": "The properties each feature carries, of those listed; an empty value, none. " +
				"An unknown name is an error (400).",
			"schema": oasObject{"type": "array", "items": oasObject{"type": "string", "enum": fieldNames}},
		}
		title := l.Title + " " + l.TitleEN
		paths["/collections/"+id] = op("describeCollection_"+id, "Collection "+id, "The collection "+title+".",
			"Capabilities", nil, okJSON("The collection.", oasRef("schemas", "collection")), errorResponses(400, 404))
		paths["/collections/"+id+"/items"] = op("getFeatures_"+id, "Features of "+id,
			"The features of "+title+", ordered by id, limit at a time; the next link gives the next page.",
			"Data", []any{oasRef("parameters", "bbox"), oasRef("parameters", "limit"), oasRef("parameters", "datetime"),
				properties, oasRef("parameters", "cursor")},
			okGeoJSON("The features of the page.", oasRef("schemas", "featureCollection_"+id)), errorResponses(400, 404))
		paths["/collections/"+id+"/items/{featureId}"] = op("getFeature_"+id, "One feature of "+id,
			"One feature of "+title+".", "Data", []any{oasRef("parameters", "featureId"), properties},
			okGeoJSON("The feature.", oasRef("schemas", "feature_"+id)), errorResponses(400, 404))
	}
	return oasObject{
		"openapi": "3.0.3",
		"info": oasObject{
			"title":       "OneMap OGC API – Features",
			"version":     onemap.Version,
			"description": "OGC API – Features – Part 1: Core 1.0.1 over OneMap's layers, as the caller's role may see them. Coordinates are CRS84 (WGS 84 longitude, latitude).",
		},
		"servers": []oasObject{{"url": s.ogcBase(c)}},
		"tags": []oasObject{
			{"name": "Capabilities", "description": "What this API offers"},
			{"name": "Data", "description": "The features"},
		},
		"paths": paths,
		"components": oasObject{
			"schemas":    schemas,
			"parameters": ogcParameters(),
			"responses":  ogcErrorResponses(),
		},
	}
}

// oasFieldSchema returns the schema of a field's values as the role sees them:
// a masked field is a string, and a level filter narrows the level's enum.
func oasFieldSchema(f onemap.Field, rule onemap.LayerRule, masked bool) oasObject {
	title := f.Title + " " + f.TitleEN
	if masked {
		return oasObject{"type": "string", "nullable": true, "title": title, "description": "masked"}
	}
	var out oasObject
	switch f.Type {
	case onemap.FieldInteger:
		out = oasObject{"type": "integer", "format": "int64"}
	case onemap.FieldNumber:
		out = oasObject{"type": "number", "format": "double"}
	case onemap.FieldBoolean:
		out = oasObject{"type": "boolean"}
	case onemap.FieldDate:
		out = oasObject{"type": "string", "format": "date"}
	case onemap.FieldTime:
		out = oasObject{"type": "string", "format": "date-time"}
	case onemap.FieldStrings:
		out = oasObject{"type": "array", "items": oasObject{"type": "string"}}
	default:
		out = oasObject{"type": "string"}
	}
	if f.Enum != nil {
		var enum []any
		for _, v := range f.Enum {
			if f.Name != "level" || rule.Levels == nil || slices.Contains(rule.Levels, v) {
				enum = append(enum, v)
			}
		}
		if !f.Required {
			enum = append(enum, nil)
		}
		out["enum"] = enum
	}
	out["title"] = title
	if !f.Required {
		out["nullable"] = true
	}
	return out
}

// ogcParameters returns the shared parameters of /ogc.
func ogcParameters() oasObject {
	return oasObject{
		"bbox": oasObject{
			"name": "bbox", "in": "query", "required": false, "style": "form", "explode": false,
			"description": "Only features whose geometry meets the box: minLon,minLat,maxLon,maxLat in CRS84 " +
				"(WGS 84 longitude, latitude). A box whose west edge lies east of its east edge crosses the antimeridian. " +
				"Boxes of 6 numbers are not supported (400).",
			"schema": oasObject{"type": "array", "minItems": 4, "maxItems": 4, "items": oasObject{"type": "number"}},
		},
		"limit": oasObject{
			"name": "limit", "in": "query", "required": false, "style": "form", "explode": false,
			"description": "At most this many features in the page. A value above " + strconv.Itoa(ogcMaxLimit) +
				" is taken as " + strconv.Itoa(ogcMaxLimit) + "; 0, a negative value or a non-integer is an error (400).",
			"schema": oasObject{"type": "integer", "minimum": 1, "maximum": ogcMaxLimit, "default": ogcDefaultLimit},
		},
		"datetime": oasObject{
			"name": "datetime", "in": "query", "required": false, "style": "form", "explode": false,
			"description": "An RFC 3339 date-time or an interval (start/end, either end may be ..). " +
				"OneMap's features have no temporal geometry, so every feature matches a valid value.",
			"schema": oasObject{"type": "string"},
		},
		"cursor": oasObject{
			"name": "cursor", "in": "query", "required": false, "style": "form", "explode": false,
			"description": "Where the page starts: an opaque value that only next links give.",
			"schema":      oasObject{"type": "string"},
		},
		"featureId": oasObject{
			"name": "featureId", "in": "path", "required": true,
			"description": "The id of a feature: a positive integer.",
			"schema":      oasObject{"type": "integer", "format": "int64", "minimum": 1},
		},
	}
}

// ogcErrorResponses returns the error responses of /ogc: the JSON of
// writeError.
func ogcErrorResponses() oasObject {
	errorResponse := func(desc string) oasObject {
		return oasObject{"description": desc, "content": oasObject{ogcJSONType: oasObject{"schema": oasRef("schemas", "exception")}}}
	}
	return oasObject{
		"InvalidParameter": errorResponse("A query parameter is unknown, or its value is invalid."),
		"NotFound":         errorResponse("No such collection or feature."),
		"ServerError":      errorResponse("A server error occurred."),
	}
}

// ogcBaseSchemas returns the schemas that do not depend on the role.
func ogcBaseSchemas() oasObject {
	link := oasObject{
		"type":     "object",
		"required": []string{"href", "rel"},
		"properties": oasObject{
			"href":     oasObject{"type": "string"},
			"rel":      oasObject{"type": "string"},
			"type":     oasObject{"type": "string"},
			"hreflang": oasObject{"type": "string"},
			"title":    oasObject{"type": "string"},
			"length":   oasObject{"type": "integer"},
		},
	}
	links := oasArray(oasRef("schemas", "link"))
	position := oasObject{"type": "array", "minItems": 2, "maxItems": 3, "items": oasObject{"type": "number"}}
	ring := oasObject{"type": "array", "minItems": 4, "items": position}
	return oasObject{
		"link": link,
		"landingPage": oasObject{
			"type":     "object",
			"required": []string{"links"},
			"properties": oasObject{
				"title":       oasObject{"type": "string"},
				"description": oasObject{"type": "string"},
				"links":       links,
			},
		},
		"confClasses": oasObject{
			"type":       "object",
			"required":   []string{"conformsTo"},
			"properties": oasObject{"conformsTo": oasArray(oasObject{"type": "string"})},
		},
		"collections": oasObject{
			"type":     "object",
			"required": []string{"links", "collections"},
			"properties": oasObject{
				"links":       links,
				"collections": oasArray(oasRef("schemas", "collection")),
			},
		},
		"collection": oasObject{
			"type":     "object",
			"required": []string{"id", "links"},
			"properties": oasObject{
				"id":          oasObject{"type": "string"},
				"title":       oasObject{"type": "string"},
				"description": oasObject{"type": "string"},
				"links":       links,
				"extent":      oasRef("schemas", "extent"),
				"itemType":    oasObject{"type": "string", "default": "feature"},
			},
		},
		"extent": oasObject{
			"type": "object",
			"properties": oasObject{
				"spatial": oasObject{
					"type": "object",
					"properties": oasObject{
						"bbox": oasObject{"type": "array", "minItems": 1, "items": oasObject{
							"type": "array", "minItems": 4, "maxItems": 4, "items": oasObject{"type": "number"}}},
						"crs": oasObject{"type": "string", "enum": []string{ogcCRS84}, "default": ogcCRS84},
					},
				},
			},
		},
		"exception": oasObject{
			"type":        "object",
			"description": "What went wrong, and where.",
			"required":    []string{"code"},
			"properties": oasObject{
				"code":  oasObject{"type": "string", "description": "invalid, not_found or internal"},
				"error": oasObject{"type": "string", "description": "what was wrong and where"},
			},
		},
		"timeStamp":      oasObject{"type": "string", "format": "date-time"},
		"numberMatched":  oasObject{"type": "integer", "minimum": 0},
		"numberReturned": oasObject{"type": "integer", "minimum": 0},
		"pointGeoJSON": oasObject{
			"type":     "object",
			"required": []string{"type", "coordinates"},
			"properties": oasObject{
				"type":        oasObject{"type": "string", "enum": []string{"Point"}},
				"coordinates": position,
			},
		},
		"multipolygonGeoJSON": oasObject{
			"type":     "object",
			"required": []string{"type", "coordinates"},
			"properties": oasObject{
				"type":        oasObject{"type": "string", "enum": []string{"MultiPolygon"}},
				"coordinates": oasArray(oasArray(ring)),
			},
		},
	}
}
