package audit

import (
	"fmt"
	"time"
)

// CheckChain checks the seals' own links, in id order: each follows its
// predecessor (hash and window), its hash matches its content, and every
// seal from the first signed one on is signed by a key of keys. It names
// the first seal that fails; rows are not looked at. Seals made before
// signing existed may be unsigned; unsigned counts them.
func CheckChain(seals []Seal, keys Keys) (unsigned int, problem string) {
	prev := Seal{SealHash: GenesisSealHash}
	signing := false
	for _, s := range seals {
		switch {
		case s.PrevSealHash != prev.SealHash || s.XminFrom != prev.XminTo:
			return unsigned, fmt.Sprintf("seal %d: does not follow seal %d (chain broken)", s.ID, prev.ID)
		case s.ComputeHash() != s.SealHash:
			return unsigned, fmt.Sprintf("seal %d: its hash does not match its content", s.ID)
		case s.Signature == "" && signing:
			return unsigned, fmt.Sprintf("seal %d: unsigned, after signed seals", s.ID)
		case s.Signature == "":
			unsigned++
		default:
			signing = true
			if err := keys.CheckSignature(s); err != nil {
				return unsigned, fmt.Sprintf("seal %d: %v", s.ID, err)
			}
		}
		prev = s
	}
	return unsigned, ""
}

// AnchorReport is what CompareAnchor found.
type AnchorReport struct {
	// Pending counts the newest database seals not anchored yet because
	// they were made within the grace period (the sealer anchors right
	// after it commits, and the next run anchors what a failed one left).
	Pending int
	// Problem names the first difference; empty when the two agree.
	Problem string
}

// CompareAnchor compares the database's seals with the anchor's copy,
// both in id order. It reports a seal that differs (rewritten or
// re-signed), a seal the anchor holds that the database lacks (a missing
// tail when it is newer than every database seal), and a database seal
// the anchor lacks unless it is part of the unanchored tail made after
// graceStart.
func CompareAnchor(db, anchored []Seal, graceStart time.Time) AnchorReport {
	byID := make(map[int64]Seal, len(anchored))
	for _, s := range anchored {
		byID[s.ID] = s
	}
	var newestDB int64
	inDB := make(map[int64]bool, len(db))
	for _, s := range db {
		inDB[s.ID] = true
		newestDB = max(newestDB, s.ID)
	}
	var rep AnchorReport
	// The tail: database seals after the newest one the anchor holds.
	var newestBoth int64
	for _, s := range db {
		if _, ok := byID[s.ID]; ok {
			newestBoth = s.ID
		}
	}
	for _, s := range db {
		a, ok := byID[s.ID]
		switch {
		case ok && !sameSeal(a, s):
			rep.Problem = fmt.Sprintf("seal %d: differs from its anchored copy (the chain was rewritten or re-signed)", s.ID)
		case !ok && s.ID > newestBoth && s.CreatedAt.After(graceStart):
			rep.Pending++
			continue
		case !ok:
			rep.Problem = fmt.Sprintf("seal %d: in the database but not in the anchor", s.ID)
		default:
			continue
		}
		return rep
	}
	var missing []int64
	for _, a := range anchored {
		if !inDB[a.ID] {
			missing = append(missing, a.ID)
		}
	}
	switch {
	case len(missing) == 0:
	case missing[0] > newestDB:
		rep.Problem = fmt.Sprintf("missing tail: seals %d..%d are in the anchor but not in the database", missing[0], missing[len(missing)-1])
	default:
		rep.Problem = fmt.Sprintf("seal %d: in the anchor but not in the database", missing[0])
	}
	return rep
}

// sameSeal compares every field; times by instant, as the anchor's copy
// went through JSON.
func sameSeal(a, b Seal) bool {
	a.CreatedAt, b.CreatedAt = a.CreatedAt.UTC(), b.CreatedAt.UTC()
	return a.CreatedAt.Equal(b.CreatedAt) && a.ID == b.ID && a.XminFrom == b.XminFrom && a.XminTo == b.XminTo &&
		a.RowCount == b.RowCount && a.FirstSeq == b.FirstSeq && a.LastSeq == b.LastSeq && a.RowsSHA256 == b.RowsSHA256 &&
		a.PrevSealHash == b.PrevSealHash && a.SealHash == b.SealHash && a.KeyID == b.KeyID && a.Signature == b.Signature
}
