package portal

import (
	"strings"

	"github.com/assistbot/assistbot/core"
)

// detectDevice classifies the customer's device from its User-Agent. The
// result decides what the landing page promises and what the technician
// may do (a mobile device can be viewed, not controlled).
//
// "Mobi" is what Mozilla recommends looking for and covers most phones;
// Android tablets omit it but say "Android", and older iPads say "iPad".
// iPadOS 13 and later present a desktop Mac User-Agent and read as
// desktop: nothing in the request tells them apart.
func detectDevice(userAgent string) core.Device {
	if strings.TrimSpace(userAgent) == "" {
		return core.DeviceUnknown
	}
	for _, m := range [...]string{"Mobi", "Android", "iPhone", "iPad", "iPod"} {
		if strings.Contains(userAgent, m) {
			return core.DeviceMobile
		}
	}
	return core.DeviceDesktop
}
