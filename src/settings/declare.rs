//! The macro that turns one table of settings into everything a setting needs: the command
//! line (clap: flag, environment variable, help), the config file (serde: key, type), the
//! merge of those layers, and the resolved value (default and validation). A setting is
//! declared once, in [`super`]'s table.

/// Each row of the table:
///
/// ```text
/// /// Help text (also the config key's documentation).
/// #[arg(long, env = "KAFKUP_X")]      // the flag and variable; #[arg(skip)]: config file only
/// name: Input => Output = resolver;   // resolver: fn(&'static str, Option<Input>) -> Result<Output, SettingsError>
/// name: Input => Output = resolver, kept;   // kept: the environment records it (see below)
/// ```
///
/// generates `Layer` (every field `Option<Input>`: what one source said; clap parses flags and
/// environment into it, serde the config file) with [`Layer::over`] and [`Layer::changes`],
/// and `Settings` (every field `Output`) with `Settings::from_layer`, which runs each row's
/// resolver, and `Settings::kept`: the layer of the `kept` rows that an environment records,
/// so that its next `setup` starts from what it was set up with.
macro_rules! declare_settings {
    ($(
        $(#[$attr:meta])*
        $name:ident : $input:ty => $output:ty = $resolve:expr $(, $kept:ident)?;
    )*) => {
        /// What one source says: flags and `KAFKUP_*` variables (clap merges those two), the
        /// config file, or an environment's record. `None`: this source says nothing.
        #[derive(Debug, Default, Clone, PartialEq, Eq, clap::Args, serde::Deserialize, serde::Serialize)]
        #[serde(deny_unknown_fields)]
        pub struct Layer {
            $(
                $(#[$attr])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $name: Option<$input>,
            )*
        }

        impl Layer {
            /// This layer over `lower`: wherever this one says nothing, `lower` is heard.
            pub fn over(self, lower: Layer) -> Layer {
                Layer { $( $name: self.$name.or(lower.$name), )* }
            }

            /// The settings both layers name with different values, in table order.
            pub fn changes(&self, newer: &Layer) -> Vec<Change> {
                let mut changes = Vec::new();
                $(
                    if let (Some(was), Some(now)) = (&self.$name, &newer.$name) {
                        if was != now {
                            changes.push(Change::new(stringify!($name), was, now));
                        }
                    }
                )*
                changes
            }
        }

        /// Every setting, resolved: the first layer that said something, else the default;
        /// validated one by one (see [`Settings::resolve`] for the checks across settings).
        #[derive(Debug, Clone, PartialEq, serde::Serialize)]
        pub struct Settings {
            $( pub $name: $output, )*
        }

        impl Settings {
            fn from_layer(layer: Layer) -> Result<Settings, SettingsError> {
                Ok(Settings {
                    $( $name: ($resolve)(stringify!($name), layer.$name)?, )*
                })
            }

            /// The `kept` settings as a layer, for the environment's record.
            pub fn kept(&self) -> Layer {
                Layer {
                    $( $name: declare_settings!(@kept self.$name $(, $kept)?), )*
                }
            }
        }
    };
    (@kept $value:expr, kept) => { $crate::settings::Keep::keep(&$value) };
    (@kept $value:expr) => { None };
}

pub(crate) use declare_settings;
