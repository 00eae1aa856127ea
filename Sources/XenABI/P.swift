public enum XenABIPlaceholder {}
