package postgis

// OpenCasesSQL is openCasesSQL, for the tests of package postgis_test.
const OpenCasesSQL = openCasesSQL
