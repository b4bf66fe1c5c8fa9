package portal

import (
	"testing"

	"github.com/assistbot/assistbot/core"
)

func TestDetectDevice(t *testing.T) {
	tests := []struct {
		name, ua string
		want     core.Device
	}{
		{"empty", "", core.DeviceUnknown},
		{"blank", "   ", core.DeviceUnknown},
		{"chrome on windows", uaDesktop, core.DeviceDesktop},
		{"safari on macos", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", core.DeviceDesktop},
		{"firefox on linux", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", core.DeviceDesktop},
		{"edge on windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", core.DeviceDesktop},
		{"chromeos", "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", core.DeviceDesktop},
		{"curl", "curl/8.5.0", core.DeviceDesktop},
		{"safari on iphone", uaIPhone, core.DeviceMobile},
		{"chrome on iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1", core.DeviceMobile},
		{"chrome on android phone", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", core.DeviceMobile},
		{"samsung internet", "Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36", core.DeviceMobile},
		{"firefox on android", "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0", core.DeviceMobile},
		{"android tablet without Mobi", "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", core.DeviceMobile},
		{"old ipad", "Mozilla/5.0 (iPad; CPU OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1", core.DeviceMobile},
		{"ipod touch", "Mozilla/5.0 (iPod touch; CPU iPhone OS 12_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1", core.DeviceMobile},
		{"opera mini", "Opera/9.80 (J2ME/MIDP; Opera Mini/5.1.21214/28.2725; U; ru) Presto/2.8.119 Version/11.10 Mobi", core.DeviceMobile},
		{"ipados 13 and later look like a mac", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15", core.DeviceDesktop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := detectDevice(tt.ua); got != tt.want {
				t.Errorf("detectDevice(%q) = %s, want %s", tt.ua, got, tt.want)
			}
		})
	}
}
