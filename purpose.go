package onemap

import (
	"slices"
	"strings"
)

// Purpose is why an account reads a person's personal data (a household's
// details): one of a fixed list of codes, recorded with every read. A code
// is chosen over a free sentence because a sentence cannot be checked (a
// reader in a hurry types "ab", or "aaaaaaaaaa"), while a code is one of a
// few the office has agreed on, and the auditor can count and filter reads
// by it.
type Purpose string

// Purposes of a read of personal data.
const (
	PurposeVisit      Purpose = "visit"      // 走访核实: a visit or a check of the household on the spot
	PurposeDispute    Purpose = "dispute"    // 矛盾调解: mediating a dispute the household is party to
	PurposeEmergency  Purpose = "emergency"  // 应急处置: an emergency at or near the household
	PurposeAssessment Purpose = "assessment" // 风险评估: the household's periodic risk assessment
	PurposeCase       Purpose = "case"       // 案件办理: a case (petition, complaint, police matter) being handled
)

// PurposeInfo is a purpose with its titles, as the client offers it.
type PurposeInfo struct {
	Code    Purpose
	Title   string // Chinese
	TitleEN string // English
}

// Purposes lists every purpose, in the order a client offers them.
func Purposes() []PurposeInfo {
	return []PurposeInfo{
		{PurposeVisit, "走访核实", "Visit or check"},
		{PurposeDispute, "矛盾调解", "Dispute resolution"},
		{PurposeEmergency, "应急处置", "Emergency response"},
		{PurposeAssessment, "风险评估", "Risk assessment"},
		{PurposeCase, "案件办理", "Case handling"},
	}
}

// ParsePurpose returns the purpose coded s, or an EINVALID error for the
// field "purpose" that lists the codes.
func ParsePurpose(s string) (Purpose, error) {
	list := Purposes()
	i := slices.IndexFunc(list, func(p PurposeInfo) bool { return string(p.Code) == s })
	if i >= 0 {
		return list[i].Code, nil
	}
	codes := make([]string, len(list))
	for j, p := range list {
		codes[j] = string(p.Code) + " (" + p.Title + ")"
	}
	if s == "" {
		return "", FieldErrorf("purpose", EINVALID, "purpose: say why you read these personal details, one of %s", strings.Join(codes, ", "))
	}
	return "", FieldErrorf("purpose", EINVALID, "purpose %.40q: want one of %s", s, strings.Join(codes, ", "))
}
