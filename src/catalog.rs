//! One way to write a catalog of named entries (the policies a profile may hold, the reference
//! server's flaws and variants): an enum whose every entry has a kebab-case name and a
//! description, listed in order, parsed from and shown as its name. Data, not code: adding an
//! entry is one line. It imports nothing of the crate.

/// `named_catalog!(Enum, UnknownError, "what", "where the list is", { Variant = "name", "description"; ... })`
macro_rules! named_catalog {
    ($enum:ident, $unknown:ident, $what:literal, $list:literal, { $( $variant:ident = $name:literal, $doc:literal; )* }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
        pub enum $enum {
            $( #[doc = $doc] #[serde(rename = $name)] $variant, )*
        }

        impl $enum {
            /// Every entry, in catalog order.
            pub const ALL: &'static [$enum] = &[$($enum::$variant),*];

            pub fn name(self) -> &'static str {
                match self { $($enum::$variant => $name,)* }
            }

            pub fn description(self) -> &'static str {
                match self { $($enum::$variant => $doc,)* }
            }
        }

        #[doc = concat!("An unknown ", $what, " name.")]
        #[derive(Debug, thiserror::Error)]
        #[error("unknown {} `{name}`; {}", $what, $list)]
        pub struct $unknown {
            pub name: String,
        }

        impl std::str::FromStr for $enum {
            type Err = $unknown;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $enum::ALL.iter().copied().find(|f| f.name() == s).ok_or_else(|| $unknown { name: s.to_string() })
            }
        }

        impl std::fmt::Display for $enum {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

pub(crate) use named_catalog;
