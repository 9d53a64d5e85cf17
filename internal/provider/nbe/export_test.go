package nbe

import "time"

// SetClock replaces the client's clock, which picks Latest's dates.
func SetClock(c *Client, now func() time.Time) { c.now = now }
