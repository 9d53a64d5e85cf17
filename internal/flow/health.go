package flow

import "time"

// CheckPublisherHealthName is the workflow type of a publisher health
// check.
const CheckPublisherHealthName = "CheckPublisherHealth"

// PublisherHealthScheduleID is the id of the schedule that checks every
// configured publisher's health.
const PublisherHealthScheduleID = "publisher-health"

// PublisherHealthInterval is how often publishers' health is checked.
const PublisherHealthInterval = 15 * time.Minute

// CheckPublisherHealthInput says which publishers to judge and when.
type CheckPublisherHealthInput struct {
	// Providers are the publishers judged; empty: every provider the
	// worker is configured with.
	Providers []string `json:"providers,omitempty"`
	// At is the instant they are judged at; zero: the workflow's start
	// (workflow.Now), which a retried activity keeps.
	At time.Time `json:"at,omitzero"`
}

// CheckPublisherHealthResult lists the verdicts of one check.
type CheckPublisherHealthResult struct {
	At      time.Time `json:"at"`
	Checked int       `json:"checked"`
	// Late and Silent name the publishers in those states, sorted.
	Late   []string `json:"late,omitempty"`
	Silent []string `json:"silent,omitempty"`
}
