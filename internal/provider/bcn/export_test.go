package bcn

import "time"

// SetClock replaces the client's clock, which Latest compares as_of with.
func SetClock(c *Client, now func() time.Time) { c.now = now }
