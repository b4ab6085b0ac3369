package apiserver

import "time"

// Function is one uploaded version of a function binary. The file is kept
// in the artifact directory under its SHA256; versions are immutable.
type Function struct {
	Name      string
	Version   string
	SHA256    string // hex
	SizeBytes int64
	CreatedAt time.Time
	// UploadedBy is the email of the user who uploaded it; "" when not
	// known (uploaded before users were recorded, or the user is gone).
	UploadedBy string
}
