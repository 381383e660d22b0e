package api_test

import (
	"time"

	"github.com/onemapgis/onemap/internal/testfix"
)

// newTestClock returns a test clock (SessionConfig.Now and the like) at
// the real time, so that what the database times itself agrees with it.
func newTestClock() *testfix.Clock { return testfix.NewClock(time.Now()) }
