// Package negotiate reads what an HTTP client says it accepts.
package negotiate

import "strings"

// Gzip reports whether an Accept-Encoding header value allows gzip: it is
// named, without q=0 (RFC 9110 §12.5.3). A bare "*" is not taken as gzip,
// so that clients which say nothing get identity.
func Gzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
