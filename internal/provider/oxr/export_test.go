package oxr

import "time"

// SetClock replaces the client's clock, which bounds History at today and
// rejects payloads from the future.
func SetClock(c *Client, now func() time.Time) { c.now = now }
