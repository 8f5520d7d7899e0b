pub mod experiments;
