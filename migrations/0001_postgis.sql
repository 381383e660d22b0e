-- PostGIS provides the geometry type, GiST operator classes and the ST_* functions.
CREATE EXTENSION IF NOT EXISTS postgis;
