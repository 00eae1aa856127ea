import XenABI
