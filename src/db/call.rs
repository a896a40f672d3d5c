//! Calls of Tally's plpgsql functions with named arguments (`p_tenant => $1, …`): each name is
//! written beside the value bound to it, so a function's parameters can be reordered or added to
//! without a caller binding a value to the wrong one.

use sqlx::postgres::PgArguments;
use sqlx::postgres::PgRow;
use sqlx::query::QueryAs;
use sqlx::{Encode, FromRow, Postgres, QueryBuilder, Type};

pub struct NamedCall<'a> {
    sql: QueryBuilder<'a, Postgres>,
    args: usize,
}

impl<'a> NamedCall<'a> {
    /// `select {columns} from {function}(` … `)`.
    pub fn new(columns: &str, function: &str) -> Self {
        Self { sql: QueryBuilder::new(format!("select {columns} from {function}(")), args: 0 }
    }

    /// One argument, by its parameter's name.
    #[must_use]
    pub fn arg<T>(mut self, name: &str, value: T) -> Self
    where
        T: 'a + Encode<'a, Postgres> + Type<Postgres> + Send,
    {
        if self.args > 0 {
            self.sql.push(", ");
        }
        self.args += 1;
        self.sql.push(name).push(" => ").push_bind(value);
        self
    }

    /// The call as a query reading rows of `O`.
    pub fn query_as<O>(&'a mut self) -> QueryAs<'a, Postgres, O, PgArguments>
    where
        O: for<'r> FromRow<'r, PgRow>,
    {
        self.sql.push(")");
        self.sql.build_query_as()
    }
}

#[cfg(test)]
mod tests {
    use super::NamedCall;

    #[test]
    fn names_sit_beside_their_values() {
        let call = NamedCall::new("a, b", "f").arg("p_x", 1i64).arg("p_y", "y");
        assert_eq!(call.sql.sql(), "select a, b from f(p_x => $1, p_y => $2");
        assert_eq!(call.args, 2);
    }
}
