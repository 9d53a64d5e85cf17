package admin

// HumanAge exposes humanAge to the external tests.
var HumanAge = humanAge
